namespace VlmRm.Rl.Planning;

/// <summary>
/// One of the paper's image towers measured on a GPU: its FLOPs per image, images/s and the fraction of the GPU's
/// measured bf16 matrix rate it reached (docs/measurements/gpu-towers-h200.json, docs/BENCHMARKS.md section gpu).
/// </summary>
public sealed record MeasuredTower(string Architecture, double GflopPerImage, double ImagesPerSecond, double FractionOfMatmul);

/// <summary>A node type a sweep can be planned for: its GPUs, their published dense bf16 rate and its list price.</summary>
/// <param name="Id">How <c>vlmrm plan --node</c> names it.</param>
/// <param name="Gpu">The GPU model; null for a CPU-only node.</param>
/// <param name="PublishedBf16Tflops">Dense (no sparsity) bf16/fp16 tensor-core TFLOP/s from the GPU's datasheet.</param>
/// <param name="PricePerHour">Pay-as-you-go list price in USD per node-hour; null where none is known (pass --price).</param>
/// <param name="Source">Where the rate and price come from.</param>
public sealed record NodeType(string Id, string? Gpu, int Gpus, double PublishedBf16Tflops, double? PricePerHour, string Source);

/// <summary>
/// The GPU figures a plan uses: the image towers measured on an H200 (2026-12-04, tools/gpu_tower_throughput.py: bf16,
/// batch 256, eager PyTorch) and node types scaled from them by their GPUs' published dense bf16 rate. Architecture is
/// the part of an OpenCLIP name before '/': ViT-L-14/openai and ViT-L-14/laion2b… run the same tower.
/// </summary>
public static class GpuFigures
{
    /// <summary>NVIDIA's datasheet figure for the H200 SXM, dense bf16: what the measured towers are scaled against.</summary>
    public const double H200PublishedBf16Tflops = 989;

    public static IReadOnlyList<MeasuredTower> H200Towers { get; } =
    [
        new("RN50", 12.013, 11_643, 0.178),
        new("ViT-B-32", 8.817, 33_448, 0.376),
        new("ViT-B-16", 35.126, 10_625, 0.476),
        new("ViT-L-14", 162.02, 2_602.6, 0.537),
        new("ViT-H-14", 334.59, 1_350.3, 0.576),
        new("ViT-bigG-14", 967.49, 513.74, 0.633),
    ];

    public static IReadOnlyList<NodeType> Nodes { get; } =
    [
        new("nvidia-h200", "H200", 1, H200PublishedBf16Tflops, null,
            "towers measured on this GPU (docs/measurements/gpu-towers-h200.json); no list price known: pass --price"),
        new("Standard_NC24ads_A100_v4", "A100 80GB PCIe", 1, 312, 3.7,
            "NVIDIA A100 datasheet (312 TFLOP/s dense bf16); Azure pay-as-you-go list price, rounded (deploy/azure/README.md: check your region)"),
        new("Standard_NC4as_T4_v3", "T4", 1, 65, 0.53,
            "NVIDIA T4 datasheet (65 TFLOP/s fp16 tensor); Azure pay-as-you-go list price, rounded (deploy/azure/README.md: check your region)"),
    ];

    public static string Architecture(string model) => model.Split('/')[0];

    public static MeasuredTower? Tower(string model) =>
        H200Towers.FirstOrDefault(t => string.Equals(t.Architecture, Architecture(model), StringComparison.OrdinalIgnoreCase));

    public static NodeType Node(string id) => Nodes.FirstOrDefault(n => string.Equals(n.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown node type '{id}'. Known: {string.Join(", ", Nodes.Select(n => n.Id))} (or none: this machine's CPU).");

    /// <summary>
    /// The tower's images/s on one of <paramref name="node"/>'s GPUs: the H200 measurement scaled by the published rates
    /// (the towers reach a similar fraction of any tensor-core GPU's matrix rate; an estimate, not a measurement, off the H200).
    /// </summary>
    public static double ImagesPerSecond(MeasuredTower tower, NodeType node) => tower.ImagesPerSecond * node.PublishedBf16Tflops / H200PublishedBf16Tflops;
}
