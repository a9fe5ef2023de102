using VlmRm.Rl.Buffers;

namespace VlmRm.Rl.Labelling;

/// <summary>Paper appendix C, Algorithm 1 as written: a full B is labelled in one call, and the run waits for it before it steps on.</summary>
public sealed class SynchronousLabelling(IRewardLabeller labeller, UnlabelledBuffer buffer, bool keepEmbeddings) : ILabellingSchedule
{
    private readonly float[] _rewards = new float[buffer.Capacity];
    private readonly EmbeddingBatch? _embeddings = keepEmbeddings ? new EmbeddingBatch(buffer.Capacity) : null;

    public UnlabelledBuffer Collecting => buffer;
    public int Pending => buffer.Count;

    public ValueTask OnFullAsync(LabelledBatchStore store, CancellationToken cancellationToken) => DrainAsync(store, cancellationToken);

    public async ValueTask DrainAsync(LabelledBatchStore store, CancellationToken cancellationToken)
    {
        var count = buffer.Count;
        if (count == 0) return;
        await labeller.LabelAsync(buffer.AsBatch(), _rewards.AsMemory(0, count), _embeddings, cancellationToken);
        store(buffer, _rewards.AsSpan(0, count), _embeddings);
        buffer.Clear();
    }

    public void Dispose()
    {
    }
}
