namespace VlmRm.Clip.Export;

/// <summary>
/// Shape of a CLIP model as OpenCLIP builds it: a ViT image tower (patch convolution, class token, pre-LN
/// transformer, class-token pooling, projection) and a causal text transformer pooled at the end-of-text token.
/// </summary>
public sealed record ClipArchitecture
{
    public int ImageSize { get; init; } = 32;
    public int PatchSize { get; init; } = 8;
    public int VisionWidth { get; init; } = 32;
    public int VisionLayers { get; init; } = 2;
    public int VisionHeads { get; init; } = 4;
    public int ContextLength { get; init; } = 77;
    public int VocabularySize { get; init; } = 49408;
    public int TextWidth { get; init; } = 32;
    public int TextLayers { get; init; } = 2;
    public int TextHeads { get; init; } = 4;
    public int EmbedDim { get; init; } = 16;

    /// <summary>ViT-B/32's shapes, for benchmarks that need the real model's compute.</summary>
    public static ClipArchitecture VitB32 => new()
    {
        ImageSize = 224, PatchSize = 32, VisionWidth = 768, VisionLayers = 12, VisionHeads = 12,
        TextWidth = 512, TextLayers = 12, TextHeads = 8, EmbedDim = 512,
    };

    public int Grid => ImageSize / PatchSize;

    /// <summary>
    /// GFLOP of one image through the image tower (a multiply-add counts 2): the patch convolution, then per layer over
    /// n = grid² + 1 tokens of width d the QKV, output and 4d MLP matrices (24·n·d²) and attention (4·n²·d), then the
    /// projection. ViT-B-32 comes to 8.817, as PyTorch's FLOP counter measured it (docs/BENCHMARKS.md, section gpu).
    /// </summary>
    public double ImageTowerGflop
    {
        get
        {
            double patches = Grid * Grid, tokens = patches + 1, width = VisionWidth;
            var patchConvolution = 2 * patches * (3.0 * PatchSize * PatchSize) * width;
            var layers = VisionLayers * (24 * tokens * width * width + 4 * tokens * tokens * width);
            return (patchConvolution + layers + 2 * width * EmbedDim) / 1e9;
        }
    }

    /// <summary>Throws naming the first shape that cannot be built.</summary>
    public void Validate()
    {
        if (ImageSize <= 0 || PatchSize <= 0 || ImageSize % PatchSize != 0) throw new ArgumentException($"Image size {ImageSize} must be a positive multiple of the patch size {PatchSize}.");
        if (VisionWidth % VisionHeads != 0) throw new ArgumentException($"Vision width {VisionWidth} must be divisible by its {VisionHeads} heads.");
        if (TextWidth % TextHeads != 0) throw new ArgumentException($"Text width {TextWidth} must be divisible by its {TextHeads} heads.");
        if (VisionLayers < 1 || TextLayers < 1 || EmbedDim < 1) throw new ArgumentException("Each tower needs at least one layer and a positive embedding size.");
        if (ContextLength < 3) throw new ArgumentException($"Context length {ContextLength} is too short (at least 3).");
    }
}

/// <summary>Weights of one pre-LN transformer block; matrices are [in, out] row-major.</summary>
public sealed record BlockWeights(
    float[] Ln1Gamma, float[] Ln1Beta,
    float[] Wq, float[] Bq, float[] Wk, float[] Bk, float[] Wv, float[] Bv, float[] Wo, float[] Bo,
    float[] Ln2Gamma, float[] Ln2Beta,
    float[] W1, float[] B1, float[] W2, float[] B2);

public sealed record VisionWeights(
    float[] PatchKernel, // [width, 3, patch, patch]
    float[] ClassEmbedding, // [width]
    float[] PositionalEmbedding, // [grid² + 1, width]
    float[] LnPreGamma, float[] LnPreBeta,
    BlockWeights[] Blocks,
    float[] LnPostGamma, float[] LnPostBeta,
    float[] Projection); // [width, embed]

public sealed record TextWeights(
    float[] TokenEmbedding, // [vocab, width]
    float[] PositionalEmbedding, // [context, width]
    BlockWeights[] Blocks,
    float[] LnFinalGamma, float[] LnFinalBeta,
    float[] Projection); // [width, embed]
