namespace VlmRm.Envs.Rendering;

/// <summary>Deterministic 2-D value noise with fractal octaves, for the project's procedural textures.</summary>
public readonly struct ValueNoise(uint seed)
{
    /// <summary>Smoothly interpolated lattice noise in [0, 1].</summary>
    public double Sample(double x, double y)
    {
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        var fx = Smooth(x - x0);
        var fy = Smooth(y - y0);
        var top = Lerp(Lattice(x0, y0), Lattice(x0 + 1, y0), fx);
        var bottom = Lerp(Lattice(x0, y0 + 1), Lattice(x0 + 1, y0 + 1), fx);
        return Lerp(top, bottom, fy);
    }

    /// <summary>Sum of <paramref name="octaves"/> octaves, each at double frequency and half amplitude, normalized to [0, 1].</summary>
    public double Fractal(double x, double y, int octaves)
    {
        double sum = 0, amplitude = 1, total = 0;
        for (var i = 0; i < octaves; i++)
        {
            sum += amplitude * Sample(x, y);
            total += amplitude;
            x = x * 2 + 17.3;
            y = y * 2 + 5.1;
            amplitude *= 0.5;
        }
        return sum / total;
    }

    private double Lattice(int x, int y)
    {
        var h = (uint)x * 0x8DA6B343u ^ (uint)y * 0xD8163841u ^ seed * 0xCB1AB31Fu;
        h ^= h >> 13;
        h *= 0x5BD1E995u;
        h ^= h >> 15;
        return (h & 0xFFFFFF) / (double)0xFFFFFF;
    }

    private static double Smooth(double t) => t * t * (3 - 2 * t);

    private static double Lerp(double a, double b, double t) => a + (b - a) * t;
}
