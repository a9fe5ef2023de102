namespace VlmRm.Envs;

/// <summary>
/// xoshiro256** with an explicit, copyable state, so that environments and learners can checkpoint
/// their random streams and a resumed run continues the same sequence.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareGaussian;

    public Rng(ulong seed) => Reseed(seed);

    public void Reseed(ulong seed)
    {
        // SplitMix64 expands one seed into the four state words, as the xoshiro authors recommend.
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
        _spareGaussian = null;
    }

    public ulong NextULong()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, n) by Lemire's multiply-shift (bias below n / 2^32).</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (int)(((NextULong() >> 32) * (ulong)n) >> 32);
    }

    /// <summary>Standard normal sample (Marsaglia polar method).</summary>
    public double NextGaussian()
    {
        if (_spareGaussian is { } spare)
        {
            _spareGaussian = null;
            return spare;
        }
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        var factor = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareGaussian = v * factor;
        return u * factor;
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(_s0);
        writer.Write(_s1);
        writer.Write(_s2);
        writer.Write(_s3);
        writer.Write(_spareGaussian.HasValue);
        writer.Write(_spareGaussian ?? 0);
    }

    public void Read(BinaryReader reader)
    {
        (_s0, _s1, _s2, _s3) = (reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64());
        var hasSpare = reader.ReadBoolean();
        var spare = reader.ReadDouble();
        _spareGaussian = hasSpare ? spare : null;
    }

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>Draws System.Random does not offer.</summary>
public static class RandomExtensions
{
    /// <summary>Uniform in [low, high).</summary>
    public static double Uniform(this Random random, double low, double high) => low + (high - low) * random.NextDouble();
}
