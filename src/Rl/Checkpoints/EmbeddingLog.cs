using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace VlmRm.Rl.Checkpoints;

/// <summary>One stored piece of a run's embedding log: the frames labelled between two of its checkpoints.</summary>
/// <param name="FirstStep">The run's step the segment starts after (the checkpoint before it; 0 for the first).</param>
/// <param name="LastStep">The step of the checkpoint it was stored with.</param>
public sealed record EmbeddingSegment(long FirstStep, long LastStep, int Width, Half[] Embeddings, bool[] Successes)
{
    public int Count => Successes.Length;
}

/// <summary>
/// A run's embedding log (reward.embedding_log, beyond the paper): every labelled frame's image embedding (fp16) and
/// success flag in the order labelled, for the whole run, where the replay buffer keeps only its last buffer_size.
/// The trainer gathers the rows between checkpoints and stores them as one segment just before each checkpoint, in the
/// run's checkpoint store (file or blob), named by the step it starts at. A segment ends with the SHA-256 of what
/// precedes it. Read back, the log is the chain of segments from step 0, each starting where the one before ended:
/// a segment left by a save that never got its checkpoint, then written again after a resume, is replaced or falls
/// off the chain.
/// </summary>
public sealed class EmbeddingLog
{
    public const string Folder = "embeddings";
    private const string Magic = "VLMRMELG";
    private const int Format = 1;

    private readonly List<Half> _rows = [];
    private readonly List<bool> _successes = [];
    private int _width;

    public static string SegmentName(long firstStep) => $"segment-{firstStep:D12}.emb";

    /// <summary>The step a segment's name says it starts at; null for a name that is not a segment's.</summary>
    public static long? SegmentStep(string name) =>
        name.StartsWith("segment-", StringComparison.Ordinal) && name.EndsWith(".emb", StringComparison.Ordinal)
        && long.TryParse(name["segment-".Length..^".emb".Length], NumberStyles.None, CultureInfo.InvariantCulture, out var step) ? step : null;

    /// <summary>Rows gathered since the last stored segment.</summary>
    public int Pending => _successes.Count;

    public void Add(ReadOnlySpan<Half> embedding, bool success)
    {
        if (_width != 0 && embedding.Length != _width) throw new ArgumentException($"Embedding log rows have {_width} values; one of {embedding.Length} was added.");
        _width = embedding.Length;
        foreach (var value in embedding) _rows.Add(value);
        _successes.Add(success);
    }

    /// <summary>Stores what was gathered as the segment from <paramref name="firstStep"/> to <paramref name="lastStep"/>; kept until <see cref="Clear"/>.</summary>
    public async Task SaveSegmentAsync(ICheckpointStore store, string runId, long firstStep, long lastStep, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream();
        using (var writer = new BinaryWriter(content, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Format);
            writer.Write(firstStep);
            writer.Write(lastStep);
            writer.Write(Pending);
            writer.Write(_width);
            writer.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_rows)));
            writer.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_successes)));
        }
        content.Write(SHA256.HashData(content.GetBuffer().AsSpan(0, (int)content.Length)));
        content.Position = 0;
        await store.SaveEmbeddingSegmentAsync(runId, firstStep, content, cancellationToken);
    }

    /// <summary>Forgets the gathered rows: their segment is stored with its checkpoint, or the run resumed from one.</summary>
    public void Clear()
    {
        _rows.Clear();
        _successes.Clear();
    }

    /// <summary>The run's log: the chain of intact segments from step 0; a damaged segment is an error naming it.</summary>
    public static async Task<IReadOnlyList<EmbeddingSegment>> ReadAsync(ICheckpointStore store, string runId, CancellationToken cancellationToken)
    {
        var chain = new List<EmbeddingSegment>();
        var starts = (await store.ListEmbeddingSegmentsAsync(runId, cancellationToken)).ToHashSet();
        for (long step = 0; starts.Contains(step);)
        {
            await using var stream = await store.OpenEmbeddingSegmentAsync(runId, step, cancellationToken);
            if (stream is null) break;
            using var bytes = new MemoryStream();
            await stream.CopyToAsync(bytes, cancellationToken);
            var segment = Parse(bytes.ToArray(), $"Embedding log segment {SegmentName(step)} of run {runId}");
            if (segment.LastStep <= step) throw new InvalidDataException($"Embedding log segment {SegmentName(step)} of run {runId} ends at step {segment.LastStep}, not after its start.");
            chain.Add(segment);
            step = segment.LastStep;
        }
        return chain;
    }

    private static EmbeddingSegment Parse(byte[] bytes, string source)
    {
        const int hash = 32;
        if (bytes.Length < hash || !SHA256.HashData(bytes.AsSpan(0, bytes.Length - hash)).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - hash)))
        {
            throw new InvalidDataException($"{source} is damaged: its content does not match the SHA-256 it ends with (truncated or overwritten).");
        }
        using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - hash));
        if (reader.ReadString() != Magic || reader.ReadInt32() != Format) throw new InvalidDataException($"{source} is not an embedding log segment of format {Format}.");
        var (first, last, count, width) = (reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt32());
        var embeddings = new Half[checked(count * width)];
        var successes = new bool[count];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(embeddings.AsSpan()));
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(successes.AsSpan()));
        return new EmbeddingSegment(first, last, width, embeddings, successes);
    }
}
