using VlmRm.Clip.Export;
using VlmRm.Clip.Synthetic;

namespace VlmRm.Clip.Tests;

/// <summary>
/// The synthetic CLIP's forward pass written out in plain C# and float64, independently of the ONNX
/// graph: what ONNX Runtime computes from the exported file must agree with this.
/// </summary>
internal static class ReferenceForward
{
    public static double[] Image(ClipWeights model, ReadOnlySpan<float> pixels)
    {
        var c = model.Config;
        var v = model.Vision;
        int size = c.ImageSize, patch = c.PatchSize, grid = c.Grid, width = c.VisionWidth, tokens = grid * grid + 1;
        var x = new double[tokens][];
        x[0] = v.ClassEmbedding.Select(f => (double)f).ToArray();
        for (var gy = 0; gy < grid; gy++)
        {
            for (var gx = 0; gx < grid; gx++)
            {
                var token = new double[width];
                for (var o = 0; o < width; o++)
                {
                    double sum = 0;
                    for (var ch = 0; ch < 3; ch++)
                    {
                        for (var ky = 0; ky < patch; ky++)
                        {
                            for (var kx = 0; kx < patch; kx++)
                            {
                                sum += v.PatchKernel[((o * 3 + ch) * patch + ky) * patch + kx] * (double)pixels[(ch * size + gy * patch + ky) * size + gx * patch + kx];
                            }
                        }
                    }
                    token[o] = sum;
                }
                x[1 + gy * grid + gx] = token;
            }
        }
        for (var t = 0; t < tokens; t++)
        {
            for (var i = 0; i < width; i++) x[t][i] += v.PositionalEmbedding[t * width + i];
            x[t] = LayerNorm(x[t], v.LnPreGamma, v.LnPreBeta);
        }
        foreach (var block in v.Blocks) x = Block(x, block, c.VisionHeads, causal: false);
        var pooled = LayerNorm(x[0], v.LnPostGamma, v.LnPostBeta);
        return Linear(pooled, v.Projection, null, c.EmbedDim);
    }

    public static double[] Text(ClipWeights model, ReadOnlySpan<long> ids)
    {
        var c = model.Config;
        var t = model.Text ?? throw new ArgumentException("The model has no text tower of its own.");
        var width = c.TextWidth;
        var x = new double[c.ContextLength][];
        for (var p = 0; p < c.ContextLength; p++)
        {
            x[p] = new double[width];
            for (var i = 0; i < width; i++) x[p][i] = t.TokenEmbedding[ids[p] * width + i] + (double)t.PositionalEmbedding[p * width + i];
        }
        foreach (var block in t.Blocks) x = Block(x, block, c.TextHeads, causal: true);
        var eot = 0;
        for (var p = 1; p < ids.Length; p++)
        {
            if (ids[p] > ids[eot]) eot = p;
        }
        return Linear(LayerNorm(x[eot], t.LnFinalGamma, t.LnFinalBeta), t.Projection, null, c.EmbedDim);
    }

    private static double[][] Block(double[][] x, BlockWeights w, int heads, bool causal)
    {
        var length = x.Length;
        var width = x[0].Length;
        var headDim = width / heads;
        var h = x.Select(row => LayerNorm(row, w.Ln1Gamma, w.Ln1Beta)).ToArray();
        var q = h.Select(row => Linear(row, w.Wq, w.Bq, width)).ToArray();
        var k = h.Select(row => Linear(row, w.Wk, w.Bk, width)).ToArray();
        var v = h.Select(row => Linear(row, w.Wv, w.Bv, width)).ToArray();
        var context = new double[length][];
        for (var t = 0; t < length; t++) context[t] = new double[width];
        for (var head = 0; head < heads; head++)
        {
            for (var t = 0; t < length; t++)
            {
                var scores = new double[length];
                var max = double.NegativeInfinity;
                for (var s = 0; s < length; s++)
                {
                    if (causal && s > t)
                    {
                        scores[s] = double.NegativeInfinity;
                        continue;
                    }
                    double dot = 0;
                    for (var d = 0; d < headDim; d++) dot += q[t][head * headDim + d] * k[s][head * headDim + d];
                    scores[s] = dot / Math.Sqrt(headDim);
                    max = Math.Max(max, scores[s]);
                }
                var total = 0.0;
                for (var s = 0; s < length; s++) total += scores[s] = Math.Exp(scores[s] - max);
                for (var s = 0; s < length; s++)
                {
                    for (var d = 0; d < headDim; d++) context[t][head * headDim + d] += scores[s] / total * v[s][head * headDim + d];
                }
            }
        }
        var result = new double[length][];
        for (var t = 0; t < length; t++)
        {
            var attended = Linear(context[t], w.Wo, w.Bo, width);
            var residual = x[t].Zip(attended, (a, b) => a + b).ToArray();
            var hidden = Linear(LayerNorm(residual, w.Ln2Gamma, w.Ln2Beta), w.W1, w.B1, 4 * width)
                .Select(m => m / (1 + Math.Exp(-1.702 * m))).ToArray();
            var mlp = Linear(hidden, w.W2, w.B2, width);
            result[t] = residual.Zip(mlp, (a, b) => a + b).ToArray();
        }
        return result;
    }

    private static double[] LayerNorm(double[] x, float[] gamma, float[] beta)
    {
        var mean = x.Average();
        var variance = x.Select(v => (v - mean) * (v - mean)).Average();
        var scale = 1 / Math.Sqrt(variance + 1e-5);
        return x.Select((v, i) => (v - mean) * scale * gamma[i] + beta[i]).ToArray();
    }

    private static double[] Linear(double[] x, float[] weight, float[]? bias, int outputs)
    {
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            double sum = bias is null ? 0 : bias[o];
            for (var i = 0; i < x.Length; i++) sum += x[i] * weight[i * outputs + o];
            y[o] = sum;
        }
        return y;
    }
}
