using VlmRm.Clip.Export;

namespace VlmRm.Clip.Synthetic;

/// <summary>
/// A CLIP-architecture model with seeded random weights: the real model path (ONNX Runtime, preprocessing,
/// tokenizer, reward) exercised without real weights, and ViT-B/32-shaped compute for benchmarks. Its
/// embeddings mean nothing; it is never offered as a reward model.
/// </summary>
public static class SyntheticClip
{
    public static ClipWeights Create(ClipArchitecture config, ulong seed)
    {
        config.Validate();
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
        return new ClipWeights(config, vision, text);
    }
}
