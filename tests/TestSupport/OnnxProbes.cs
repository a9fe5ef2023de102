using VlmRm.Clip.Onnx;

namespace VlmRm.Clip.Synthetic;

/// <summary>Single-operator ONNX models that measure what this machine's ONNX Runtime can do.</summary>
public static class OnnxProbes
{
    /// <summary>
    /// Y = X·W for X [batch, n] and a constant W [n, n]: 2·batch·n² operations per run, ONNX Runtime's SGEMM or, with
    /// <paramref name="quantized"/>, the dynamic-quantization pattern the int8 towers use (DynamicQuantizeLinear, MatMulInteger, rescale).
    /// </summary>
    public static byte[] MatMul(int n, bool quantized = false, ulong seed = 1)
    {
        var rng = new Random((int)seed);
        var weight = new float[n * n];
        for (var i = 0; i < weight.Length; i++) weight[i] = (float)(rng.NextDouble() - 0.5);
        var g = new OnnxGraphBuilder("matmul_probe");
        var x = g.FloatInput("x", "batch", n);
        g.Node("Identity", [g.WeightMatMul(x, "w", weight, n, n, quantized)], "y");
        g.FloatOutput("y", "batch", n);
        return g.ToBytes("vlmrm-probe");
    }
}
