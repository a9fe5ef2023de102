namespace VlmRm.Rl.Labelling;

/// <summary>
/// Frames of one labelling batch in arrays of at most <see cref="ChunkBytes"/> each, whole frames per array.
/// The paper's Humanoid batch (B = 3200 frames of 480 × 480 × 3 bytes, 2.2 GB) is over .NET's 2 GiB array
/// limit, and one chunk is also the most a labelling message carries between silos.
/// </summary>
public sealed class FrameChunks
{
    /// <summary>256 MiB: large enough that CartPole's and MountainCar's batches are one chunk, small enough to allocate anywhere.</summary>
    public const long DefaultChunkBytes = 256L << 20;

    /// <summary>The most frame bytes one labelling message carries by default: under Orleans' 100 MB body limit.</summary>
    public const long DefaultMessageBytes = 64L << 20;

    private readonly byte[][] _chunks;

    /// <param name="alignment">Frames per chunk are a multiple of this (the copies of a vectorized step), so a step's frames lie in one chunk.</param>
    public FrameChunks(int capacity, FrameSize frame, long chunkBytes = DefaultChunkBytes, int alignment = 1)
    {
        Layout = new FrameChunkLayout(capacity, frame, chunkBytes, alignment);
        RequireMemory(Layout.TotalBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        _chunks = new byte[Layout.Chunks][];
        for (var c = 0; c < _chunks.Length; c++) _chunks[c] = new byte[(long)Layout.FramesInChunk(c) * frame.Bytes];
    }

    /// <summary>
    /// Refuses, before allocating, a batch this process cannot hold (<paramref name="available"/>: the GC's limit, which
    /// is the container's memory limit or a configured heap limit where there is one), naming what would fit.
    /// </summary>
    public static void RequireMemory(long batchBytes, long available)
    {
        if (batchBytes <= available / 2) return;
        throw new InsufficientMemoryException(
            $"The labelling batch needs {batchBytes / 1e9:F2} GB for its unlabelled frames, and this process may use {available / 1e9:F2} GB " +
            "(the batch may take at most half): lower reward.batch_size or reward.frame_width/frame_height, or give the process more memory.");
    }

    public FrameChunkLayout Layout { get; }
    public int Capacity => Layout.Capacity;
    public FrameSize Frame => Layout.Frame;
    public long ChunkBytes => Layout.ChunkBytes;

    /// <summary>Frame <paramref name="index"/>'s bytes (H × W × 3).</summary>
    public Span<byte> this[int index]
    {
        get
        {
            var (chunk, offset) = Layout.Locate(index);
            return _chunks[chunk].AsSpan(offset * Frame.Bytes, Frame.Bytes);
        }
    }

    /// <summary>
    /// Frames [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) as contiguous runs, each
    /// inside one chunk: (index of the run's first frame, its frame count, its bytes).
    /// </summary>
    public IEnumerable<(int First, int Count, Memory<byte> Bytes)> Runs(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (start + count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), $"frames {start}..{start + count} are beyond the {Capacity} this batch holds");
        var end = start + count;
        while (start < end)
        {
            var (chunk, offset) = Layout.Locate(start);
            var run = Math.Min(end - start, Layout.FramesInChunk(chunk) - offset);
            yield return (start, run, _chunks[chunk].AsMemory(offset * Frame.Bytes, run * Frame.Bytes));
            start += run;
        }
    }
}

/// <summary>How <see cref="FrameChunks"/> splits a batch, computed without allocating it (a preset's plan checks it at its real size).</summary>
public readonly record struct FrameChunkLayout
{
    public FrameChunkLayout(int capacity, FrameSize frame, long chunkBytes, int alignment = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(alignment);
        if (frame.Bytes <= 0) throw new ArgumentException($"A frame of {frame.Width}×{frame.Height} has no pixels.", nameof(frame));
        if (chunkBytes < frame.Bytes) throw new ArgumentException($"A chunk of {chunkBytes:N0} bytes cannot hold one {frame.Width}×{frame.Height} frame ({frame.Bytes:N0} bytes).", nameof(chunkBytes));
        Capacity = capacity;
        Frame = frame;
        ChunkBytes = chunkBytes;
        FramesPerChunk = (int)Math.Min(Array.MaxLength / frame.Bytes, chunkBytes / frame.Bytes) / alignment * alignment;
        if (FramesPerChunk == 0)
        {
            throw new ArgumentException($"A chunk of {chunkBytes:N0} bytes cannot hold one step of {alignment} {frame.Width}×{frame.Height} frames ({(long)alignment * frame.Bytes:N0} bytes).", nameof(chunkBytes));
        }
        Chunks = (capacity + FramesPerChunk - 1) / FramesPerChunk;
    }

    public int Capacity { get; }
    public FrameSize Frame { get; }
    public long ChunkBytes { get; }
    public int FramesPerChunk { get; }
    public int Chunks { get; }
    public long TotalBytes => (long)Capacity * Frame.Bytes;

    public int FramesInChunk(int chunk) => Math.Min(FramesPerChunk, Capacity - chunk * FramesPerChunk);

    public (int Chunk, int Offset) Locate(int index)
    {
        if ((uint)index >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(index), $"frame {index} is beyond the {Capacity} this batch holds");
        return (index / FramesPerChunk, index % FramesPerChunk);
    }
}
