namespace VlmRm.Envs;

/// <summary>An observation or action space, as Gymnasium describes them.</summary>
public abstract record Space
{
    /// <summary>Number of floats one element of the space takes in a contiguous buffer.</summary>
    public abstract int FlatSize { get; }

    /// <summary>Draws one element uniformly (unbounded box dimensions draw from [-1, 1]) into <paramref name="destination"/> of <see cref="FlatSize"/> floats.</summary>
    public abstract void Sample(Rng rng, Span<float> destination);
}

/// <summary>A box of floats with per-dimension bounds (may be infinite).</summary>
public sealed record BoxSpace(float[] Low, float[] High) : Space
{
    public BoxSpace(int size, float low, float high)
        : this(Enumerable.Repeat(low, size).ToArray(), Enumerable.Repeat(high, size).ToArray())
    {
    }

    public override int FlatSize => Low.Length;

    /// <summary>Equal when the bounds are equal element by element (records compare arrays by reference).</summary>
    public bool Equals(BoxSpace? other) => other is not null && Low.AsSpan().SequenceEqual(other.Low) && High.AsSpan().SequenceEqual(other.High);

    public override int GetHashCode() => HashCode.Combine(Low.Length, Low.Length > 0 ? Low[0] : 0, High.Length > 0 ? High[^1] : 0);

    public bool Contains(ReadOnlySpan<float> value)
    {
        if (value.Length != Low.Length) return false;
        for (var i = 0; i < value.Length; i++)
        {
            if (!(value[i] >= Low[i] && value[i] <= High[i])) return false;
        }
        return true;
    }

    public override void Sample(Rng rng, Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            var low = float.IsFinite(Low[i]) ? Low[i] : -1f;
            var high = float.IsFinite(High[i]) ? High[i] : 1f;
            destination[i] = (float)rng.Uniform(low, high);
        }
    }
}

/// <summary>Actions 0..N-1. In contiguous action buffers the index is stored as a float (one slot).</summary>
public sealed record DiscreteSpace(int N) : Space
{
    public override int FlatSize => 1;

    public override void Sample(Rng rng, Span<float> destination) => destination[0] = rng.NextInt(N);
}
