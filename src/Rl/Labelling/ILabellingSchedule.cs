using VlmRm.Rl.Buffers;

namespace VlmRm.Rl.Labelling;

/// <summary>
/// Algorithm 1's labelling step, scheduled: the trainer appends transitions to <see cref="Collecting"/> (B); when it
/// is full the schedule labels it and hands the labelled transitions to the trainer's store (D). The schedules differ
/// only in when a batch's rewards are awaited, always at the same step of the run, so a seed gives the same run in each.
/// </summary>
public interface ILabellingSchedule : IDisposable
{
    /// <summary>Where the next transitions go.</summary>
    UnlabelledBuffer Collecting { get; }

    /// <summary>Transitions collected or being labelled that have not reached D yet.</summary>
    int Pending { get; }

    /// <summary>Called when <see cref="Collecting"/> cannot take another vectorized step.</summary>
    ValueTask OnFullAsync(LabelledBatchStore store, CancellationToken cancellationToken);

    /// <summary>Labels everything pending and stores it (before a checkpoint and at the end of a run).</summary>
    ValueTask DrainAsync(LabelledBatchStore store, CancellationToken cancellationToken);
}

/// <summary>
/// Moves labelled transitions into the replay buffer D; <paramref name="rewards"/> holds one reward per transition, and
/// <paramref name="embeddings"/> their frames' image embeddings when the run keeps them.
/// </summary>
public delegate void LabelledBatchStore(UnlabelledBuffer transitions, ReadOnlySpan<float> rewards, EmbeddingBatch? embeddings);

/// <summary>A labelling call under way.</summary>
/// <param name="work">What runs in this process for it; the labeller's owner waits for it before disposing the labeller.</param>
/// <param name="finish">Waits for the rewards and writes them where the call was asked to.</param>
public sealed class PendingLabels(Task work, Func<CancellationToken, ValueTask> finish)
{
    /// <summary>Labelling that runs on the thread pool: finishing it is awaiting it.</summary>
    public static PendingLabels Running(Task work) => new(work, _ => new ValueTask(work));

    public Task Work => work;

    public ValueTask FinishAsync(CancellationToken cancellationToken) => finish(cancellationToken);
}
