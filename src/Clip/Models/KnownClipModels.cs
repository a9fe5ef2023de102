namespace VlmRm.Clip.Models;

/// <summary>A CLIP model by its OpenCLIP name, with the facts the paper's scaling plots need.</summary>
public sealed record ClipModelInfo(string Name, int ImageSize, int EmbedDim, long Parameters)
{
    /// <summary>Folder name in the models directory: the OpenCLIP name with '/' replaced by "__".</summary>
    public string FolderName => ClipModelRegistry.FolderName(Name);
}

/// <summary>A public ONNX export whose exact size and SHA-256 are known, so a damaged copy is recognized.</summary>
public sealed record KnownExport(string Source, long Bytes, string Sha256);

/// <summary>
/// The pretrained registry (OpenCLIP names, paper section 4.4's RN50 → ViT-bigG-14 ladder). Parameter
/// counts are OpenCLIP's totals for both towers; a model folder's model.json takes precedence.
/// </summary>
public static class KnownClipModels
{
    /// <summary>A model's parameter count: its manifest's, else the registry's for a known name; a clear error without either.</summary>
    public static long ParameterCount(string name, ClipModelManifest manifest) =>
        manifest.Parameters > 0 ? manifest.Parameters : Find(name)?.Parameters ?? throw new InvalidDataException($"{name}: model.json gives no parameter count.");

    public static IReadOnlyList<ClipModelInfo> All { get; } =
    [
        new("RN50/openai", 224, 1024, 102_007_137),
        new("ViT-B-32/openai", 224, 512, 151_277_313),
        new("ViT-B-16/openai", 224, 512, 149_620_737),
        new("ViT-L-14/openai", 224, 768, 427_616_513),
        new("ViT-L-14/laion2b_s32b_b82k", 224, 768, 427_616_513),
        new("ViT-H-14/laion2b_s32b_b79k", 224, 1024, 986_109_441),
        new("ViT-g-14/laion2b_s34b_b88k", 224, 1024, 1_366_678_785),
        new("ViT-bigG-14/laion2b_s39b_b160k", 224, 1280, 2_539_567_361),
    ];

    /// <summary>Known public exports (from ../shared/models/README.md).</summary>
    public static IReadOnlyList<KnownExport> Exports { get; } =
    [
        new("Xenova/clip-vit-base-patch32 onnx/vision_model_quantized.onnx", 89_117_001, "583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299"),
        new("Xenova/clip-vit-base-patch32 onnx/text_model_quantized.onnx", 64_504_507, "73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a"),
        new("onnx-community/TinyCLIP-ViT-8M-16-Text-3M-YFCC15M-ONNX onnx/model.onnx", 94_071_688, "31d28cb07209533d10fc4fef73ac324ce17de6741a2372e7e1531a4ac8fdaeb2"),
        new("PicQuery CLIP ViT-B/32 int8 clip-image-int8.ort", 95_876_592, "977f817cd83a37dbad50ac2629476f3792fe334c76f95ad8873434bb9faa6090"),
        new("PicQuery CLIP ViT-B/32 int8 clip-text-int8.ort", 64_545_680, "fb5277500358c43f6309e588da7e30b4aaf0e976ba559ad8b3af481985457ee5"),
    ];

    public static ClipModelInfo? Find(string name) => All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
}
