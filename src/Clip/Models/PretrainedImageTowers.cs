namespace VlmRm.Clip.Models;

/// <summary>
/// A pretrained image tower that a model folder uses locked (its weights unchanged), with a small trained head into
/// the text space (<see cref="ClipModelManifest.ImageHead"/>): its ONNX file, restored from a NuGet package and adapted
/// (<see cref="PackagedFiles"/>), the pooled feature width it returns and the normalization it was trained with.
/// </summary>
public sealed record PretrainedImageTower(
    string Name, string RegistrySuffix, string Description, int FeatureDim, long Parameters, double GflopPerImage, int ImageSize,
    float[] Mean, float[] Std, TowerFile Tower, PackagedFile File)
{
    /// <summary>The manifest of a model folder whose head was trained on this tower's features.</summary>
    public ClipModelManifest Into(ClipModelManifest manifest, TowerFile head, long headParameters) => manifest with
    {
        ImageSize = ImageSize,
        Mean = Mean,
        Std = Std,
        Image = Tower,
        ImageHead = head,
        Restore = [.. manifest.Restore, File],
        Parameters = manifest.Parameters + Parameters + headParameters,
    };
}

/// <summary>The pretrained image towers VlmRm can lock (served by the NuGet feed with their weights inside).</summary>
public static class PretrainedImageTowers
{
    private const string ResNet18Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    private const string ResNet18Version = "0.24.0";

    /// <summary>
    /// ResNet18 trained on ImageNet, as ML.NET ships it (MIT; a CNTK export, 224 px, 512 features after global average
    /// pooling). It was trained on BGR planes in 0–255 minus a per-pixel mean image; the adapter moves the channel
    /// order into its first kernel, and the normalization below subtracts that image's per-channel means (R 123.15,
    /// G 115.90, B 103.06; the image varies by up to ±13 around them), std 1/255, so pixels reach it on its 0–255 scale.
    /// Parameters counts every initializer value of the file (weights and batch-norm statistics). Its compute is
    /// torchvision's count for the same network at 224 px, 1.814 G multiply-adds, as FLOPs (a multiply-add counts 2,
    /// as in <see cref="Export.ClipArchitecture.ImageTowerGflop"/>); this export ends at the pooling, without the
    /// 1000-class layer.
    /// </summary>
    public static PretrainedImageTower ResNet18 { get; } = new(
        "resnet18", "ResNet18", "ImageNet ResNet18 (MIT) from the Microsoft.ML.DnnImageFeaturizer.ResNet18 NuGet package, locked",
        FeatureDim: 512, Parameters: 15_908_800, GflopPerImage: 3.628, ImageSize: 224,
        Mean: [123.15163f / 255f, 115.90288f / 255f, 103.06262f / 255f], Std: [1 / 255f, 1 / 255f, 1 / 255f],
        new TowerFile { File = "image.onnx", Kind = EncoderFamilies.PooledFeatureMap, Input = "Input247", Output = "Pooling395_Output_0" },
        new PackagedFile
        {
            File = "image.onnx", Package = ResNet18Package, Version = ResNet18Version,
            PackagePath = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx", Adapter = Onnx.OnnxModelAdapters.AnyBatchRgb,
            Bytes = 63_653_533, Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f",
        });

    public static IReadOnlyDictionary<string, PretrainedImageTower> All { get; } = new Dictionary<string, PretrainedImageTower>(StringComparer.OrdinalIgnoreCase)
    {
        [ResNet18.Name] = ResNet18,
    };

    public static PretrainedImageTower Get(string name) => All.TryGetValue(name, out var tower)
        ? tower
        : throw new ArgumentException($"Unknown pretrained image tower '{name}'; known: {string.Join(", ", All.Keys)}.");
}
