using VlmRm.Rl.Buffers;

namespace VlmRm.Rl.Labelling;

/// <summary>
/// Algorithm 1 with its labelling overlapped: when B is full it is handed to the labeller, and the run collects the
/// next batch into a second buffer and trains on D meanwhile. The next time B is full the run first waits for the
/// batch in flight and stores it, then hands over the new one: at most one batch is being labelled.
/// Staleness, bounded: a transition reaches D at most two batches (2B environment steps) after it was collected,
/// where the synchronous schedule takes at most one; the policy collecting batch k+1 has learned from batches up to
/// k − 1. Rewards are awaited at the same steps whatever the labeller's speed, so a seed still gives one run, and a
/// checkpoint (which drains first) resumes it exactly. Costs a second unlabelled buffer (its frames included).
/// </summary>
public sealed class OverlappedLabelling : ILabellingSchedule
{
    private readonly IRewardLabeller _labeller;
    private Slot _collecting;
    private Slot _labelling;
    private PendingLabels? _inFlight;

    public OverlappedLabelling(IRewardLabeller labeller, Func<UnlabelledBuffer> newBuffer, bool keepEmbeddings)
    {
        _labeller = labeller;
        _collecting = new Slot(newBuffer(), keepEmbeddings);
        _labelling = new Slot(newBuffer(), keepEmbeddings);
    }

    public UnlabelledBuffer Collecting => _collecting.Buffer;
    public int Pending => _collecting.Buffer.Count + (_inFlight is null ? 0 : _labelling.Buffer.Count);

    public async ValueTask OnFullAsync(LabelledBatchStore store, CancellationToken cancellationToken)
    {
        await FinishInFlightAsync(store, cancellationToken);
        var full = _collecting;
        _inFlight = await _labeller.StartLabellingAsync(full.Buffer.AsBatch(), full.Rewards.AsMemory(0, full.Buffer.Count), full.Embeddings, cancellationToken);
        (_collecting, _labelling) = (_labelling, full);
    }

    public async ValueTask DrainAsync(LabelledBatchStore store, CancellationToken cancellationToken)
    {
        await FinishInFlightAsync(store, cancellationToken);
        if (_collecting.Buffer.Count == 0) return;
        await OnFullAsync(store, cancellationToken);
        await FinishInFlightAsync(store, cancellationToken);
    }

    private async ValueTask FinishInFlightAsync(LabelledBatchStore store, CancellationToken cancellationToken)
    {
        if (_inFlight is not { } pending) return;
        try
        {
            await pending.FinishAsync(cancellationToken);
            store(_labelling.Buffer, _labelling.Rewards.AsSpan(0, _labelling.Buffer.Count), _labelling.Embeddings);
        }
        finally
        {
            _inFlight = null;
            _labelling.Buffer.Clear();
        }
    }

    /// <summary>Waits for labelling still running here (a cancelled run's batch), so the labeller is idle when its owner disposes it.</summary>
    public void Dispose()
    {
        try
        {
            _inFlight?.Work.Wait();
        }
        catch (AggregateException)
        {
            // The run is over: a failed batch it no longer waits for has nothing to report.
        }
    }

    private sealed class Slot(UnlabelledBuffer buffer, bool keepEmbeddings)
    {
        public UnlabelledBuffer Buffer => buffer;
        public float[] Rewards { get; } = new float[buffer.Capacity];
        public EmbeddingBatch? Embeddings { get; } = keepEmbeddings ? new EmbeddingBatch(buffer.Capacity) : null;
    }
}
