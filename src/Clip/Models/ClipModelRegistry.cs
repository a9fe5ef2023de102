using System.Security.Cryptography;

namespace VlmRm.Clip.Models;

/// <summary>A model folder that passed validation: manifest read, files present with the recorded size and hash.</summary>
public sealed record ClipModelFolder(string Name, string Directory, ClipModelManifest Manifest, string ImagePath, string TextPath, string TokenizerPath, string? ReferencePath)
{
    /// <summary>The trained head on a locked text tower, where the manifest names one.</summary>
    public string? TextHeadPath => Manifest.TextHead is { } head ? Path.Combine(Directory, head.File) : null;

    /// <summary>The trained head on a locked image tower's features, where the manifest names one.</summary>
    public string? ImageHeadPath => Manifest.ImageHead is { } head ? Path.Combine(Directory, head.File) : null;
}

/// <summary>
/// Finds models in the models directory by OpenCLIP name (folder <c>ViT-B-32__openai</c> for
/// <c>ViT-B-32/openai</c>) and validates them; every failure names the file and what was expected.
/// </summary>
public sealed class ClipModelRegistry(ClipRuntimeOptions options)
{
    public const string ManifestFile = "model.json";
    public const string ReferenceFile = "reference.json";

    public string ModelsDirectory => Path.GetFullPath(options.ModelsDirectory);

    public static string FolderName(string name) => name.Replace("/", "__", StringComparison.Ordinal);

    /// <summary>Names of the models present (folders with a model.json).</summary>
    public IReadOnlyList<string> Available()
    {
        if (!Directory.Exists(ModelsDirectory)) return [];
        return Directory.GetDirectories(ModelsDirectory)
            .Where(d => File.Exists(Path.Combine(d, ManifestFile)))
            .Select(d => Path.GetFileName(d).Replace("__", "/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public ClipModelFolder Resolve(string name)
    {
        var folder = Path.Combine(ModelsDirectory, FolderName(name));
        if (!Directory.Exists(folder))
        {
            var known = KnownClipModels.Find(name) is null ? $" '{name}' is not one of the known OpenCLIP names either ({string.Join(", ", KnownClipModels.All.Select(m => m.Name))})." : "";
            var present = Available();
            throw new FileNotFoundException(
                $"CLIP model '{name}' not found: expected folder {folder} with image.onnx, text.onnx and model.json " +
                $"(export one with tools/export_openclip.py; set the folder with --models or VLMRM_MODELS). " +
                $"Models present: {(present.Count == 0 ? "none" : string.Join(", ", present))}.{known}");
        }
        var manifest = ClipModelManifest.Load(Path.Combine(folder, ManifestFile));
        PackagedFiles.RestoreMissing(folder, manifest.Restore);
        var image = VerifyFile(folder, manifest.Image, "image tower");
        var text = VerifyFile(folder, manifest.Text, "text tower");
        if (manifest.TextHead is { } head) VerifyFile(folder, head, "text head");
        if (manifest.ImageHead is { } imageHead) VerifyFile(folder, imageHead, "image head");
        var tokenizer = FindTokenizer(folder, manifest);
        var reference = Path.Combine(folder, ReferenceFile);
        return new ClipModelFolder(name, folder, manifest, image, text, tokenizer, File.Exists(reference) ? reference : null);
    }

    /// <summary>The tower's .onnx and every external data file it lists: present, of the recorded size, with the recorded SHA-256.</summary>
    private string VerifyFile(string folder, TowerFile tower, string role)
    {
        var path = VerifyFile(folder, tower.File, tower.Bytes, tower.Sha256, role, knownExport: true);
        foreach (var data in tower.Data) VerifyFile(folder, data.File, data.Bytes, data.Sha256, $"{role} data", knownExport: false);
        return path;
    }

    private string VerifyFile(string folder, string file, long? bytes, string? sha256, string role, bool knownExport)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"The {role} file {path} named in {ManifestFile} is missing.", path);
        var length = new FileInfo(path).Length;
        if (bytes is { } expected && expected != length)
        {
            var kind = length < expected ? "truncated" : "longer than recorded";
            throw new InvalidDataException($"{path} is {kind}: {ManifestFile} records {expected:N0} bytes, the file has {length:N0}.");
        }
        if (!options.VerifyChecksums) return path;
        var knownBySize = knownExport ? KnownClipModels.Exports.FirstOrDefault(e => e.Bytes == length) : null;
        if (sha256 is null && knownBySize is null) return path;
        string actual;
        using (var stream = File.OpenRead(path)) actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (sha256 is { } sha && !string.Equals(sha, actual, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{path} does not match {ManifestFile}: SHA-256 {actual}, expected {sha.ToLowerInvariant()}. The file is damaged or belongs to another model.");
        }
        if (sha256 is null && knownBySize is { } export && export.Sha256 != actual)
        {
            throw new InvalidDataException($"{path} has the size of {export.Source} ({export.Bytes:N0} bytes) but SHA-256 {actual}, expected {export.Sha256}: the copy is damaged.");
        }
        return path;
    }

    private string FindTokenizer(string folder, ClipModelManifest manifest)
    {
        var candidates = new List<string> { Path.Combine(folder, manifest.Tokenizer) };
        if (options.TokenizerDirectory is { } shared) candidates.Add(Path.Combine(shared, manifest.Tokenizer));
        candidates.Add(Path.Combine(ModelsDirectory, "clip-tokenizer", manifest.Tokenizer));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, manifest.Tokenizer)); // the copy shipped with VlmRm
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new FileNotFoundException($"Tokenizer file {manifest.Tokenizer} ({manifest.TokenizerKind}) not found; looked in: {string.Join(", ", candidates)}.");
    }
}
