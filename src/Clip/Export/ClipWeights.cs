using VlmRm.Clip.Models;
using VlmRm.Clip.Onnx;

namespace VlmRm.Clip.Export;

/// <summary>How the towers are written: both float32 by default.</summary>
public sealed record ClipExportOptions
{
    /// <summary>Quantize the image transformer's weight matrices to int8 with dynamic activation quantization.</summary>
    public bool ImageInt8 { get; init; }

    /// <summary>
    /// Store the text tower's token table (49,408 rows, most of a small model's bytes) as float16 and widen the
    /// gathered rows to float32: halves the file; the rows lose nothing a float16 cannot hold.
    /// </summary>
    public bool HalfTokenEmbedding { get; init; }

    /// <summary>What the model is, recorded in model.json.</summary>
    public string? Description { get; init; }

    /// <summary>The locked pretrained text tower the image tower was trained against; the folder then holds no trained text tower.</summary>
    public PretrainedTextTower? LockedText { get; init; }

    /// <summary>With <see cref="LockedText"/>: the trained residual head on its embeddings, written as text_head.onnx.</summary>
    public LockedTextHead? LockedTextHead { get; init; }
}

/// <summary>
/// A CLIP model's weights in OpenCLIP's layout, exported to the ONNX towers every VlmRm model folder holds
/// (input <c>image</c> [N, 3, S, S] normalized pixels → <c>image_embeds</c>; input <c>text</c> [N, 77] token ids →
/// <c>text_embeds</c>), so a model from any source loads through the registry the same way.
/// </summary>
public sealed class ClipWeights(ClipArchitecture architecture, VisionWeights vision, TextWeights? text)
{
    public const string ImageInput = "image";
    public const string ImageOutput = "image_embeds";
    public const string TextInput = "text";
    public const string TextOutput = "text_embeds";

    public ClipArchitecture Config { get; } = architecture;
    public VisionWeights Vision { get; } = vision;
    /// <summary>Null for an image tower trained against a locked pretrained text tower.</summary>
    public TextWeights? Text { get; } = text;

    /// <summary>
    /// Writes image.onnx, text.onnx and model.json (with sizes and SHA-256) into <paramref name="folder"/>. With a
    /// locked text tower only image.onnx is written: model.json names the pretrained tower's files, which the registry
    /// restores from their package.
    /// </summary>
    public ClipModelManifest WriteModelFolder(string folder, string name, ClipExportOptions? options = null)
    {
        options ??= new ClipExportOptions();
        Directory.CreateDirectory(folder);
        var (imageBytes, imageParameters) = ExportImageTower(options.ImageInt8);
        File.WriteAllBytes(Path.Combine(folder, "image.onnx"), imageBytes);
        var image = TowerFile.Written("image.onnx", ImageInput, ImageOutput, imageBytes);
        ClipModelManifest manifest;
        if (options.LockedText is { } locked)
        {
            if (locked.EmbedDim != Config.EmbedDim) throw new ArgumentException($"The image tower embeds to {Config.EmbedDim} values; the locked text tower {locked.Name} to {locked.EmbedDim}.");
            TowerFile? head = null;
            long headParameters = 0;
            if (options.LockedTextHead is { } trainedHead)
            {
                var (headBytes, parameters) = trainedHead.Export(locked.EmbedDim);
                File.WriteAllBytes(Path.Combine(folder, LockedTextHead.File), headBytes);
                head = TowerFile.Written(LockedTextHead.File, LockedTextHead.Input, LockedTextHead.Output, headBytes);
                headParameters = parameters;
            }
            manifest = locked.Into(new ClipModelManifest
            {
                Name = name, Description = options.Description, ImageSize = Config.ImageSize, EmbedDim = Config.EmbedDim,
                Parameters = imageParameters + headParameters, Image = image, Text = locked.Tower, TextHead = head,
            });
            manifest.Save(Path.Combine(folder, ClipModelRegistry.ManifestFile));
            return manifest;
        }
        var (textBytes, textParameters) = ExportTextTower(options.HalfTokenEmbedding);
        File.WriteAllBytes(Path.Combine(folder, "text.onnx"), textBytes);
        manifest = new ClipModelManifest
        {
            Name = name,
            Description = options.Description,
            ImageSize = Config.ImageSize,
            EmbedDim = Config.EmbedDim,
            Parameters = imageParameters + textParameters,
            ContextLength = Config.ContextLength,
            Image = image,
            Text = TowerFile.Written("text.onnx", TextInput, TextOutput, textBytes),
        };
        manifest.Save(Path.Combine(folder, ClipModelRegistry.ManifestFile));
        return manifest;
    }

    /// <param name="quantizeInt8">Quantize the transformer's weight matrices to int8 with dynamic activation quantization.</param>
    public (byte[] Bytes, long Parameters) ExportImageTower(bool quantizeInt8 = false)
    {
        var c = Config;
        var g = new OnnxGraphBuilder("clip_image_tower");
        var image = g.FloatInput(ImageInput, "batch", 3, c.ImageSize, c.ImageSize);
        var kernel = g.Initializer("visual.conv1.weight", Vision.PatchKernel, [c.VisionWidth, 3, c.PatchSize, c.PatchSize]);
        var patches = g.Node("Conv", [image, kernel], null,
            OnnxGraphBuilder.Ints("kernel_shape", c.PatchSize, c.PatchSize), OnnxGraphBuilder.Ints("strides", c.PatchSize, c.PatchSize));
        var tokens = g.Transpose(g.Reshape(patches, 0, c.VisionWidth, -1), 0, 2, 1); // [N, grid², width]

        // The class token, broadcast to the batch: Expand to [N, 1, width] with N read from the input's shape.
        var classToken = g.Initializer("visual.class_embedding", Vision.ClassEmbedding, [1, 1, c.VisionWidth]);
        var batch = g.Node("Gather", [g.Node("Shape", [image]), g.Int64Constant(0)], null, OnnxGraphBuilder.Int("axis", 0));
        var classShape = g.Node("Concat", [batch, g.Int64Constant(1, c.VisionWidth)], null, OnnxGraphBuilder.Int("axis", 0));
        var classes = g.Node("Expand", [classToken, classShape]);
        var x = g.Node("Concat", [classes, tokens], null, OnnxGraphBuilder.Int("axis", 1));
        x = g.Add(x, g.Initializer("visual.positional_embedding", Vision.PositionalEmbedding, [c.Grid * c.Grid + 1, c.VisionWidth]));
        x = g.LayerNorm(x, g.Initializer("visual.ln_pre.weight", Vision.LnPreGamma, [c.VisionWidth]), g.Initializer("visual.ln_pre.bias", Vision.LnPreBeta, [c.VisionWidth]));
        for (var i = 0; i < Vision.Blocks.Length; i++) x = TransformerBlock(g, x, Vision.Blocks[i], $"visual.block{i}", c.VisionWidth, c.VisionHeads, mask: null, quantizeInt8);
        var pooled = g.Node("Gather", [x, g.Int64Scalar(0)], null, OnnxGraphBuilder.Int("axis", 1)); // class token: [N, width]
        pooled = g.LayerNorm(pooled, g.Initializer("visual.ln_post.weight", Vision.LnPostGamma, [c.VisionWidth]), g.Initializer("visual.ln_post.bias", Vision.LnPostBeta, [c.VisionWidth]));
        g.Node("MatMul", [pooled, g.Initializer("visual.proj", Vision.Projection, [c.VisionWidth, c.EmbedDim])], ImageOutput);
        g.FloatOutput(ImageOutput, "batch", c.EmbedDim);
        return (g.ToBytes("vlmrm"), g.ParameterCount);
    }

    public (byte[] Bytes, long Parameters) ExportTextTower(bool halfTokenEmbedding = false)
    {
        var c = Config;
        var weights = Text ?? throw new InvalidOperationException("These weights have no text tower (trained against a locked pretrained one): there is no text.onnx to export.");
        var g = new OnnxGraphBuilder("clip_text_tower");
        var text = g.Int64Input(TextInput, "batch", c.ContextLength);
        var x = halfTokenEmbedding
            ? g.CastToFloat(g.Node("Gather", [g.HalfInitializer("token_embedding.weight", weights.TokenEmbedding, [c.VocabularySize, c.TextWidth]), text], null, OnnxGraphBuilder.Int("axis", 0)))
            : g.Node("Gather", [g.Initializer("token_embedding.weight", weights.TokenEmbedding, [c.VocabularySize, c.TextWidth]), text], null, OnnxGraphBuilder.Int("axis", 0));
        x = g.Add(x, g.Initializer("positional_embedding", weights.PositionalEmbedding, [c.ContextLength, c.TextWidth]));
        var mask = new float[c.ContextLength * c.ContextLength];
        for (var i = 0; i < c.ContextLength; i++)
        {
            for (var j = i + 1; j < c.ContextLength; j++) mask[i * c.ContextLength + j] = float.NegativeInfinity;
        }
        var causal = g.Initializer("attn_mask", mask, [c.ContextLength, c.ContextLength], isParameter: false);
        for (var i = 0; i < weights.Blocks.Length; i++) x = TransformerBlock(g, x, weights.Blocks[i], $"transformer.block{i}", c.TextWidth, c.TextHeads, causal, int8: false);
        x = g.LayerNorm(x, g.Initializer("ln_final.weight", weights.LnFinalGamma, [c.TextWidth]), g.Initializer("ln_final.bias", weights.LnFinalBeta, [c.TextWidth]));
        // Pool at the end-of-text token, which has the highest id in every sequence.
        var eot = g.Node("ArgMax", [text], null, OnnxGraphBuilder.Int("axis", -1), OnnxGraphBuilder.Int("keepdims", 1));
        var pooled = g.Node("GatherND", [x, eot], null, OnnxGraphBuilder.Int("batch_dims", 1));
        g.Node("MatMul", [pooled, g.Initializer("text_projection", weights.Projection, [c.TextWidth, c.EmbedDim])], TextOutput);
        g.FloatOutput(TextOutput, "batch", c.EmbedDim);
        return (g.ToBytes("vlmrm"), g.ParameterCount);
    }

    private static string TransformerBlock(OnnxGraphBuilder g, string x, BlockWeights w, string prefix, int width, int heads, string? mask, bool int8)
    {
        var headDim = width / heads;
        string Linear(string input, float[] weight, float[] bias, string name, int inputs, int outputs) =>
            g.Add(g.WeightMatMul(input, $"{prefix}.{name}.weight", weight, inputs, outputs, int8), g.Initializer($"{prefix}.{name}.bias", bias, [outputs]));

        var h = g.LayerNorm(x, g.Initializer($"{prefix}.ln_1.weight", w.Ln1Gamma, [width]), g.Initializer($"{prefix}.ln_1.bias", w.Ln1Beta, [width]));
        var q = g.Transpose(g.Reshape(Linear(h, w.Wq, w.Bq, "q_proj", width, width), 0, 0, heads, headDim), 0, 2, 1, 3);
        var k = g.Transpose(g.Reshape(Linear(h, w.Wk, w.Bk, "k_proj", width, width), 0, 0, heads, headDim), 0, 2, 3, 1);
        var v = g.Transpose(g.Reshape(Linear(h, w.Wv, w.Bv, "v_proj", width, width), 0, 0, heads, headDim), 0, 2, 1, 3);
        var scores = g.Mul(g.MatMul(q, k), g.FloatScalar((float)(1 / Math.Sqrt(headDim))));
        if (mask is not null) scores = g.Add(scores, mask);
        var attention = g.Node("Softmax", [scores], null, OnnxGraphBuilder.Int("axis", -1));
        var context = g.Reshape(g.Transpose(g.MatMul(attention, v), 0, 2, 1, 3), 0, 0, width);
        x = g.Add(x, Linear(context, w.Wo, w.Bo, "out_proj", width, width));

        var h2 = g.LayerNorm(x, g.Initializer($"{prefix}.ln_2.weight", w.Ln2Gamma, [width]), g.Initializer($"{prefix}.ln_2.bias", w.Ln2Beta, [width]));
        var hidden = Linear(h2, w.W1, w.B1, "c_fc", width, 4 * width);
        // OpenAI CLIP's QuickGELU: x · sigmoid(1.702 x).
        hidden = g.Mul(hidden, g.Node("Sigmoid", [g.Mul(hidden, g.FloatScalar(1.702f))]));
        return g.Add(x, Linear(hidden, w.W2, w.B2, "c_proj", 4 * width, width));
    }
}

/// <summary>
/// A residual linear head on a locked text tower's embeddings, y = x + x·W + b (W [D, D] as [in, out]): it starts as
/// the identity, so training only bends the pretrained space where these scenes need it.
/// </summary>
public sealed record LockedTextHead(float[] Matrix, float[] Bias)
{
    public const string File = "text_head.onnx";
    public const string Input = "text_pooled";
    public const string Output = "text_embeds";

    public (byte[] Bytes, long Parameters) Export(int dim)
    {
        if (Matrix.Length != dim * dim || Bias.Length != dim) throw new ArgumentException($"A text head for {dim}-d embeddings needs a {dim}×{dim} matrix and {dim} biases.");
        var g = new OnnxGraphBuilder("locked_text_head");
        var x = g.FloatInput(Input, "batch", dim);
        var bent = g.Add(g.Node("MatMul", [x, g.Initializer("text_head.weight", Matrix, [dim, dim])]), g.Initializer("text_head.bias", Bias, [dim]));
        g.Add(x, bent, Output);
        g.FloatOutput(Output, "batch", dim);
        return (g.ToBytes("vlmrm"), g.ParameterCount);
    }
}

/// <summary>
/// The trained head on a locked pretrained image tower's pooled features [N, F]: LayerNorm, a hidden layer with ReLU,
/// a projection into the text space (matrices [in, out]). The tower's features are fixed; this is all that trains.
/// </summary>
public sealed record LockedImageHead(float[] NormGamma, float[] NormBeta, float[] Hidden, float[] HiddenBias, float[] Projection, float[] ProjectionBias)
{
    public const string File = "image_head.onnx";
    public const string Input = "image_features";
    public const string Output = "image_embeds";
    public const int HiddenWidth = 512;

    /// <summary>GFLOP of one image through the head: its two matrices, one multiply-add (2 FLOPs) per weight.</summary>
    public double Gflop => 2.0 * (Hidden.Length + Projection.Length) / 1e9;

    public (byte[] Bytes, long Parameters) Export()
    {
        var features = NormGamma.Length;
        var dim = ProjectionBias.Length;
        if (NormBeta.Length != features || Hidden.Length != features * HiddenWidth || HiddenBias.Length != HiddenWidth || Projection.Length != HiddenWidth * dim)
        {
            throw new ArgumentException($"An image head from {features} features to {dim} needs a {features}×{HiddenWidth} hidden matrix and a {HiddenWidth}×{dim} projection.");
        }
        var g = new OnnxGraphBuilder("locked_image_head");
        var x = g.FloatInput(Input, "batch", features);
        x = g.LayerNorm(x, g.Initializer("image_head.norm.weight", NormGamma, [features]), g.Initializer("image_head.norm.bias", NormBeta, [features]));
        x = g.Add(g.MatMul(x, g.Initializer("image_head.hidden.weight", Hidden, [features, HiddenWidth])), g.Initializer("image_head.hidden.bias", HiddenBias, [HiddenWidth]));
        x = g.Node("Relu", [x]);
        g.Add(g.MatMul(x, g.Initializer("image_head.projection.weight", Projection, [HiddenWidth, dim])), g.Initializer("image_head.projection.bias", ProjectionBias, [dim]), Output);
        g.FloatOutput(Output, "batch", dim);
        return (g.ToBytes("vlmrm"), g.ParameterCount);
    }
}
