namespace VlmRm.Rl.Checkpoints;

/// <summary>
/// A checkpoint store that writes only while its writer still owns the run: each save and delete first asks
/// <paramref name="confirmOwnership"/>, which throws <see cref="CheckpointOwnershipLostException"/> once a newer writer
/// has taken the run over. In the cluster that is a learner activation the cluster already replaced (a silo cut off
/// from membership, a Redis restart): left alone it trains on from its own older checkpoint and stores checkpoints,
/// pointers and deletions beside the new activation's (the 100-kill soak found a run sent back 24,000 steps that way).
/// Reads are not fenced: a replaced writer reading does no harm. Embedding-log segments are fenced like checkpoints.
/// </summary>
public sealed class FencedCheckpointStore(ICheckpointStore inner, Func<CancellationToken, Task> confirmOwnership) : ICheckpointStore
{
    public async Task<CheckpointInfo> SaveAsync(string runId, string name, Stream content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken)
    {
        await confirmOwnership(cancellationToken);
        return await inner.SaveAsync(runId, name, content, timesteps, trainingReward, isBest, cancellationToken);
    }

    public async Task DeleteAsync(CheckpointInfo info, CancellationToken cancellationToken)
    {
        await confirmOwnership(cancellationToken);
        await inner.DeleteAsync(info, cancellationToken);
    }

    public async Task SaveEmbeddingSegmentAsync(string runId, long firstStep, Stream content, CancellationToken cancellationToken)
    {
        await confirmOwnership(cancellationToken);
        await inner.SaveEmbeddingSegmentAsync(runId, firstStep, content, cancellationToken);
    }

    public Task<IReadOnlyList<long>> ListEmbeddingSegmentsAsync(string runId, CancellationToken cancellationToken) => inner.ListEmbeddingSegmentsAsync(runId, cancellationToken);

    public Task<Stream?> OpenEmbeddingSegmentAsync(string runId, long firstStep, CancellationToken cancellationToken) => inner.OpenEmbeddingSegmentAsync(runId, firstStep, cancellationToken);

    public Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken) => inner.LoadLatestAsync(runId, cancellationToken);

    public Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken) => inner.LoadBestAsync(runId, cancellationToken);

    public Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken) => inner.ListAsync(runId, cancellationToken);

    public Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken) => inner.LoadAsync(info, cancellationToken);
}

/// <summary>
/// A newer writer owns the run's checkpoints: this one must stop without writing (not retry, as after a store
/// outage), and the run goes on from the owner's checkpoints.
/// </summary>
public sealed class CheckpointOwnershipLostException(string message, Exception? inner = null) : Exception(message, inner);
