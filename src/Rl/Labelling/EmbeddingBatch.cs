namespace VlmRm.Rl.Labelling;

/// <summary>
/// A labelling batch's image embeddings as the run keeps them (reward.keep_embeddings): fp16, one row per frame, in
/// the order of the batch's transitions. Its width is set by the first write, so a labeller whose model lives in
/// another process (the reward grain) needs no model here to say it.
/// </summary>
public sealed class EmbeddingBatch(int capacity)
{
    private Half[] _values = [];

    public int Capacity => capacity;

    /// <summary>Values per row; 0 until a labeller wrote one.</summary>
    public int Width { get; private set; }

    /// <summary>Stores the embeddings of frames <paramref name="first"/> … (rows of <paramref name="width"/> floats, any norm) as fp16.</summary>
    public void Write(int first, ReadOnlySpan<float> embeddings, int width)
    {
        if (width <= 0 || embeddings.Length % width != 0) throw new ArgumentException($"{embeddings.Length} values are not rows of {width}.", nameof(embeddings));
        EnsureWidth(width);
        var rows = embeddings.Length / width;
        if (first < 0 || first + rows > capacity) throw new ArgumentOutOfRangeException(nameof(first), $"Rows {first}…{first + rows - 1} are outside a batch of {capacity}.");
        var destination = _values.AsSpan(first * width, embeddings.Length);
        for (var i = 0; i < embeddings.Length; i++) destination[i] = (Half)embeddings[i];
    }

    /// <summary>Stores rows already in fp16, as they come from another process.</summary>
    public void Write(int first, ReadOnlySpan<Half> embeddings, int width)
    {
        if (width <= 0 || embeddings.Length % width != 0) throw new ArgumentException($"{embeddings.Length} values are not rows of {width}.", nameof(embeddings));
        EnsureWidth(width);
        if (first < 0 || first + embeddings.Length / width > capacity) throw new ArgumentOutOfRangeException(nameof(first), $"Rows from {first} are outside a batch of {capacity}.");
        embeddings.CopyTo(_values.AsSpan(first * width));
    }

    public ReadOnlySpan<Half> Row(int index) => _values.AsSpan(index * Width, Width);

    private void EnsureWidth(int width)
    {
        if (Width == width) return;
        if (Width != 0) throw new InvalidDataException($"The labeller's embeddings changed width from {Width} to {width} within a run.");
        Width = width;
        _values = new Half[checked(capacity * width)];
    }
}
