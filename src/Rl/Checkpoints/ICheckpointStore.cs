using System.Security.Cryptography;

namespace VlmRm.Rl.Checkpoints;

/// <summary>A stored checkpoint: where it sits in the run and how to check its bytes.</summary>
public sealed record CheckpointInfo(string RunId, string Name, long Timesteps, double TrainingReward, long Bytes, string Sha256, DateTimeOffset CreatedUtc);

/// <summary>
/// A checkpoint whose bytes verified, open for reading from their start. Dispose it to close them (a checkpoint
/// downloaded from blob storage is a temporary file, deleted then): a Humanoid checkpoint with its replay buffer is
/// 3 GB and never held whole in memory.
/// </summary>
public sealed class LoadedCheckpoint(CheckpointInfo info, Stream content) : IDisposable
{
    public CheckpointInfo Info { get; } = info;
    public Stream Content { get; } = content;

    public void Dispose() => Content.Dispose();
}

/// <summary>
/// Where learners keep checkpoints (filesystem here, Azure Blob Storage in the cluster). Saving is
/// atomic: a checkpoint becomes "latest" (and "best") only once its bytes are completely stored and
/// verified, so a half-written checkpoint is never loaded. Content is streamed both ways, never whole in memory.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Stores <paramref name="content"/> from its current position to its end.</summary>
    Task<CheckpointInfo> SaveAsync(string runId, string name, Stream content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken);

    /// <summary>The newest checkpoint whose bytes verify; null when the run has none.</summary>
    Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The checkpoint with the highest training reward (the paper evaluates that one).</summary>
    Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken);

    Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken);

    /// <summary>One listed checkpoint, null when its bytes are missing or do not verify.</summary>
    Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken);

    /// <summary>Removes one checkpoint (its listing first, then its bytes); never the one latest or best points to (<see cref="CheckpointRetention"/>).</summary>
    Task DeleteAsync(CheckpointInfo info, CancellationToken cancellationToken);
}

/// <summary>Length and SHA-256 of checkpoint bytes, computed as they stream past.</summary>
public static class CheckpointBytes
{
    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (when given) in 1 MiB pieces, hashing them; returns (bytes, SHA-256).</summary>
    public static async Task<(long Bytes, string Sha256)> CopyAsync(Stream source, Stream? destination, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long bytes = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            bytes += read;
            if (destination is not null) await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
        return (bytes, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    /// <summary>Whether seekable <paramref name="content"/> has the length and hash <paramref name="info"/> records; leaves it at its start.</summary>
    public static async Task<bool> MatchAsync(Stream content, CheckpointInfo info, CancellationToken cancellationToken)
    {
        if (content.Length != info.Bytes) return false;
        content.Position = 0;
        var (_, sha) = await CopyAsync(content, null, cancellationToken);
        content.Position = 0;
        return sha == info.Sha256;
    }
}
