using System.Security.Cryptography;
using VlmRm.Clip.Models;
using VlmRm.Clip.Onnx;

namespace VlmRm.Clip.Synthetic;

/// <summary>Shape of a CLIP-architecture model: a ViT image tower and a causal text transformer.</summary>
public sealed record SyntheticClipConfig
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
    public static SyntheticClipConfig VitB32 => new()
    {
        ImageSize = 224, PatchSize = 32, VisionWidth = 768, VisionLayers = 12, VisionHeads = 12,
        TextWidth = 512, TextLayers = 12, TextHeads = 8, EmbedDim = 512,
    };

    public int Grid => ImageSize / PatchSize;
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

/// <summary>
/// A CLIP-architecture model with seeded random weights, exported to ONNX from C#: the real model path
/// (ONNX Runtime, preprocessing, tokenizer, reward) exercised without real weights, and ViT-B/32-shaped
/// compute for benchmarks. Its embeddings mean nothing; it is never offered as a reward model.
/// </summary>
public sealed class SyntheticClip
{
    public const string ImageInput = "image";
    public const string ImageOutput = "image_embeds";
    public const string TextInput = "text";
    public const string TextOutput = "text_embeds";

    private SyntheticClip(SyntheticClipConfig config, VisionWeights vision, TextWeights text)
    {
        Config = config;
        Vision = vision;
        Text = text;
    }

    public SyntheticClipConfig Config { get; }
    public VisionWeights Vision { get; }
    public TextWeights Text { get; }

    public static SyntheticClip Create(SyntheticClipConfig config, ulong seed)
    {
        if (config.ImageSize % config.PatchSize != 0) throw new ArgumentException("Image size must be a multiple of the patch size.");
        var rng = new Random((int)(seed & 0x7FFFFFFF));
        float[] Normal(int count, double std)
        {
            var values = new float[count];
            for (var i = 0; i < count; i++)
            {
                // Box-Muller; System.Random keeps this independent of the environment library.
                var u1 = 1.0 - rng.NextDouble();
                var u2 = rng.NextDouble();
                values[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            return values;
        }
        float[] Gamma(int count) => Normal(count, 0.1).Select(v => 1 + v).ToArray();
        BlockWeights Block(int width)
        {
            var std = 1 / Math.Sqrt(width);
            return new BlockWeights(
                Gamma(width), Normal(width, 0.1),
                Normal(width * width, std), Normal(width, 0.02), Normal(width * width, std), Normal(width, 0.02),
                Normal(width * width, std), Normal(width, 0.02), Normal(width * width, std), Normal(width, 0.02),
                Gamma(width), Normal(width, 0.1),
                Normal(width * 4 * width, std), Normal(4 * width, 0.02), Normal(4 * width * width, 1 / Math.Sqrt(4 * width)), Normal(width, 0.02));
        }

        var vw = config.VisionWidth;
        var patchInputs = 3 * config.PatchSize * config.PatchSize;
        var vision = new VisionWeights(
            Normal(vw * patchInputs, 1 / Math.Sqrt(patchInputs)),
            Normal(vw, 0.5),
            Normal((config.Grid * config.Grid + 1) * vw, 0.5),
            Gamma(vw), Normal(vw, 0.1),
            Enumerable.Range(0, config.VisionLayers).Select(_ => Block(vw)).ToArray(),
            Gamma(vw), Normal(vw, 0.1),
            Normal(vw * config.EmbedDim, 1 / Math.Sqrt(vw)));
        var tw = config.TextWidth;
        var text = new TextWeights(
            Normal(config.VocabularySize * tw, 0.5),
            Normal(config.ContextLength * tw, 0.5),
            Enumerable.Range(0, config.TextLayers).Select(_ => Block(tw)).ToArray(),
            Gamma(tw), Normal(tw, 0.1),
            Normal(tw * config.EmbedDim, 1 / Math.Sqrt(tw)));
        return new SyntheticClip(config, vision, text);
    }

    /// <summary>Writes image.onnx, text.onnx and model.json (with sizes and SHA-256) into <paramref name="folder"/>.</summary>
    public ClipModelManifest WriteModelFolder(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        var (imageBytes, imageParameters) = ExportImageTower();
        var (textBytes, textParameters) = ExportTextTower();
        File.WriteAllBytes(Path.Combine(folder, "image.onnx"), imageBytes);
        File.WriteAllBytes(Path.Combine(folder, "text.onnx"), textBytes);
        var manifest = new ClipModelManifest
        {
            Name = name,
            ImageSize = Config.ImageSize,
            EmbedDim = Config.EmbedDim,
            Parameters = imageParameters + textParameters,
            ContextLength = Config.ContextLength,
            Image = new TowerFile { File = "image.onnx", Input = ImageInput, Output = ImageOutput, Bytes = imageBytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(imageBytes)) },
            Text = new TowerFile { File = "text.onnx", Input = TextInput, Output = TextOutput, Bytes = textBytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(textBytes)) },
        };
        manifest.Save(Path.Combine(folder, "model.json"));
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
        return (g.ToBytes("vlmrm-synthetic-clip"), g.ParameterCount);
    }

    public (byte[] Bytes, long Parameters) ExportTextTower()
    {
        var c = Config;
        var g = new OnnxGraphBuilder("clip_text_tower");
        var text = g.Int64Input(TextInput, "batch", c.ContextLength);
        var x = g.Node("Gather", [g.Initializer("token_embedding.weight", Text.TokenEmbedding, [c.VocabularySize, c.TextWidth]), text], null, OnnxGraphBuilder.Int("axis", 0));
        x = g.Add(x, g.Initializer("positional_embedding", Text.PositionalEmbedding, [c.ContextLength, c.TextWidth]));
        var mask = new float[c.ContextLength * c.ContextLength];
        for (var i = 0; i < c.ContextLength; i++)
        {
            for (var j = i + 1; j < c.ContextLength; j++) mask[i * c.ContextLength + j] = float.NegativeInfinity;
        }
        var causal = g.Initializer("attn_mask", mask, [c.ContextLength, c.ContextLength], isParameter: false);
        for (var i = 0; i < Text.Blocks.Length; i++) x = TransformerBlock(g, x, Text.Blocks[i], $"transformer.block{i}", c.TextWidth, c.TextHeads, causal, int8: false);
        x = g.LayerNorm(x, g.Initializer("ln_final.weight", Text.LnFinalGamma, [c.TextWidth]), g.Initializer("ln_final.bias", Text.LnFinalBeta, [c.TextWidth]));
        // Pool at the end-of-text token, which has the highest id in every sequence.
        var eot = g.Node("ArgMax", [text], null, OnnxGraphBuilder.Int("axis", -1), OnnxGraphBuilder.Int("keepdims", 1));
        var pooled = g.Node("GatherND", [x, eot], null, OnnxGraphBuilder.Int("batch_dims", 1));
        g.Node("MatMul", [pooled, g.Initializer("text_projection", Text.Projection, [c.TextWidth, c.EmbedDim])], TextOutput);
        g.FloatOutput(TextOutput, "batch", c.EmbedDim);
        return (g.ToBytes("vlmrm-synthetic-clip"), g.ParameterCount);
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
