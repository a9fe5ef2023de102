namespace VlmRm.Rl.Checkpoints;

/// <summary>A stored checkpoint: where it sits in the run and how to check its bytes.</summary>
public sealed record CheckpointInfo(string RunId, string Name, long Timesteps, double TrainingReward, long Bytes, string Sha256, DateTimeOffset CreatedUtc);

public sealed record LoadedCheckpoint(CheckpointInfo Info, byte[] Content);

/// <summary>
/// Where learners keep checkpoints (filesystem here, Azure Blob Storage in the cluster). Saving is
/// atomic: a checkpoint becomes "latest" (and "best") only once its bytes are completely stored and
/// verified, so a half-written checkpoint is never loaded.
/// </summary>
public interface ICheckpointStore
{
    Task<CheckpointInfo> SaveAsync(string runId, string name, ReadOnlyMemory<byte> content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken);

    /// <summary>The newest checkpoint whose bytes verify; null when the run has none.</summary>
    Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The checkpoint with the highest training reward (the paper evaluates that one).</summary>
    Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken);

    Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken);

    /// <summary>One listed checkpoint, null when its bytes are missing or do not verify.</summary>
    Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken);
}
