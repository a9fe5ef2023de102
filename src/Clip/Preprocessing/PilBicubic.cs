using System.Collections.Concurrent;

namespace VlmRm.Clip.Preprocessing;

/// <summary>
/// Pillow's bicubic resampling (libImaging/Resample.c) for 8-bit images: a separable filter with
/// a = −0.5 whose support widens with the downscale factor (antialiasing), weights normalized per
/// output pixel and quantized to 22-bit fixed point, horizontal pass first into an 8-bit intermediate,
/// then the vertical pass. Reproducing the integer arithmetic makes the output byte-identical to PIL's.
/// </summary>
internal sealed class PilBicubic
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const double Support = 2.0;

    private static readonly ConcurrentDictionary<(int In, int Out), PilBicubic> Cache = new();

    private PilBicubic(int inSize, int outSize)
    {
        var scale = inSize / (double)outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = Support * filterScale;
        KernelSize = (int)Math.Ceiling(support) * 2 + 1;
        Bounds = new int[outSize * 2];
        Weights = new int[outSize * KernelSize];
        var weights = new double[KernelSize];
        for (var o = 0; o < outSize; o++)
        {
            var center = (o + 0.5) * scale;
            var first = Math.Max((int)(center - support + 0.5), 0);
            var count = Math.Min((int)(center + support + 0.5), inSize) - first;
            double total = 0;
            for (var i = 0; i < count; i++)
            {
                weights[i] = Filter((i + first - center + 0.5) / filterScale);
                total += weights[i];
            }
            for (var i = 0; i < count; i++)
            {
                var w = total != 0 ? weights[i] / total : weights[i];
                Weights[o * KernelSize + i] = (int)(w < 0 ? -0.5 + w * (1 << PrecisionBits) : 0.5 + w * (1 << PrecisionBits));
            }
            Bounds[o * 2] = first;
            Bounds[o * 2 + 1] = count;
        }
    }

    public int KernelSize { get; }

    /// <summary>Per output index: first input index, number of taps.</summary>
    public int[] Bounds { get; }

    /// <summary>Fixed-point weights, <see cref="KernelSize"/> per output index.</summary>
    public int[] Weights { get; }

    public static PilBicubic For(int inSize, int outSize) => Cache.GetOrAdd((inSize, outSize), key => new PilBicubic(key.In, key.Out));

    /// <summary>Horizontal pass for output columns [<paramref name="columnStart"/>, +<paramref name="columns"/>) on rows [rowStart, +rows).</summary>
    public void ResampleRows(ReadOnlySpan<byte> source, int sourceWidth, int rowStart, int rows, int columnStart, int columns, Span<byte> destination)
    {
        for (var y = 0; y < rows; y++)
        {
            var sourceRow = source.Slice((rowStart + y) * sourceWidth * 3, sourceWidth * 3);
            var destinationRow = destination.Slice(y * columns * 3, columns * 3);
            for (var x = 0; x < columns; x++)
            {
                var o = columnStart + x;
                var first = Bounds[o * 2];
                var count = Bounds[o * 2 + 1];
                var k = Weights.AsSpan(o * KernelSize, count);
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                for (var i = 0; i < count; i++)
                {
                    var p = (first + i) * 3;
                    r += sourceRow[p] * k[i];
                    g += sourceRow[p + 1] * k[i];
                    b += sourceRow[p + 2] * k[i];
                }
                destinationRow[x * 3] = Clip8(r);
                destinationRow[x * 3 + 1] = Clip8(g);
                destinationRow[x * 3 + 2] = Clip8(b);
            }
        }
    }

    /// <summary>Vertical pass: output row <c>o</c> reads intermediate rows from Bounds[o], offset by <paramref name="firstSourceRow"/>.</summary>
    public byte Vertical(ReadOnlySpan<byte> intermediate, int stride, int firstSourceRow, int outputRow, int byteOffset)
    {
        var first = Bounds[outputRow * 2] - firstSourceRow;
        var count = Bounds[outputRow * 2 + 1];
        var k = Weights.AsSpan(outputRow * KernelSize, count);
        var sum = 1 << (PrecisionBits - 1);
        for (var i = 0; i < count; i++) sum += intermediate[(first + i) * stride + byteOffset] * k[i];
        return Clip8(sum);
    }

    private static byte Clip8(int value) => value <= 0 ? (byte)0 : value >= 255 << PrecisionBits ? (byte)255 : (byte)(value >> PrecisionBits);

    private static double Filter(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }
}
