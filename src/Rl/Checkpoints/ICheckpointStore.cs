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

    /// <summary>Newer checkpoints (or pointers) passed over to reach this one, each with what is wrong with it.</summary>
    public IReadOnlyList<string> PassedOver { get; init; } = [];

    /// <summary>
    /// Set when the latest pointer named an older checkpoint than this one: a save cut short between its sidecar and
    /// the pointer (harmless), or a second writer of the run's checkpoints (an activation the cluster had replaced).
    /// </summary>
    public string? PointerBehind { get; init; }

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

    /// <summary>
    /// Stores one segment of the run's embedding log (<see cref="EmbeddingLog"/>) under the step it starts at, atomically,
    /// replacing a segment stored there before (a run resumed from a checkpoint writes its steps again).
    /// </summary>
    Task SaveEmbeddingSegmentAsync(string runId, long firstStep, Stream content, CancellationToken cancellationToken);

    /// <summary>The steps the run's embedding-log segments start at, ascending.</summary>
    Task<IReadOnlyList<long>> ListEmbeddingSegmentsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>One segment's bytes, read from their start (the caller disposes them); null when it is gone.</summary>
    Task<Stream?> OpenEmbeddingSegmentAsync(string runId, long firstStep, CancellationToken cancellationToken);
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

    /// <summary>
    /// What is wrong with seekable <paramref name="content"/> against the length and hash <paramref name="info"/> records,
    /// or null when it is intact; leaves it at its start.
    /// </summary>
    public static async Task<string?> DamageAsync(Stream content, CheckpointInfo info, CancellationToken cancellationToken)
    {
        if (content.Length != info.Bytes) return $"{info.Name}.ckpt holds {content.Length:N0} bytes, its sidecar records {info.Bytes:N0} (truncated or overwritten)";
        content.Position = 0;
        var (_, sha) = await CopyAsync(content, null, cancellationToken);
        content.Position = 0;
        return sha == info.Sha256 ? null : $"{info.Name}.ckpt does not match its SHA-256 (its bytes changed after it was written)";
    }
}

/// <summary>A run's listed checkpoints, and the names of those whose sidecars do not read (so they cannot be verified).</summary>
public sealed record CheckpointListing(IReadOnlyList<CheckpointInfo> Infos, IReadOnlyList<string> Unverifiable)
{
    /// <summary>The line naming a checkpoint passed over because its sidecar does not read.</summary>
    public static string UnreadableSidecar(string name) => $"{name}.json is not readable JSON, so {name}.ckpt cannot be verified";
}

/// <summary>
/// Which checkpoint a store hands out: the one its pointer names, or for <c>latest</c> the newest intact one, with
/// every damaged or unreadable one passed over named. Shared by the file and blob stores.
/// </summary>
public static class CheckpointSelection
{
    /// <param name="named">The pointer's checkpoint, or the reason it names none it can read (null: no pointer at all).</param>
    /// <param name="fallBack">
    /// For <c>latest</c>: the newest intact checkpoint by step, listed or named by the pointer. A pointer that names an
    /// older one than the listing holds is behind (<see cref="LoadedCheckpoint.PointerBehind"/>): resuming from it would
    /// silently throw the newer checkpoints' steps away.
    /// </param>
    /// <param name="list">The run's checkpoints whose sidecars read, and those whose sidecars do not.</param>
    /// <param name="read">A checkpoint's verified content, or why it cannot be loaded.</param>
    /// <exception cref="InvalidDataException">Checkpoints exist and none is intact: resuming from nothing would silently lose the run.</exception>
    public static async Task<LoadedCheckpoint?> LoadAsync(
        string runId, (CheckpointInfo? Info, string? Problem) named, bool fallBack, Func<Task<CheckpointListing>> list,
        Func<CheckpointInfo, Task<(LoadedCheckpoint? Loaded, string? Damage)>> read)
    {
        var passedOver = new List<string>();
        if (named.Problem is { } problem) passedOver.Add(problem);
        if (!fallBack)
        {
            if (named.Info is not { } pointed) return null;
            var (loaded, _) = await read(pointed);
            return loaded;
        }
        var (listed, unverifiable) = await list();
        var candidates = listed.Where(c => c.Name != named.Info?.Name).Concat(named.Info is { } p ? [p] : []).OrderByDescending(c => c.Timesteps).ToList();
        var pointerBehind = named.Info is { } stale && candidates.Count > 0 && candidates[0].Timesteps > stale.Timesteps
            ? $"latest.json names {stale.Name} (step {stale.Timesteps:N0}), behind {candidates[0].Name} (step {candidates[0].Timesteps:N0}) stored beside it"
            : null;
        foreach (var candidate in candidates)
        {
            var (loaded, damage) = await read(candidate);
            if (loaded is not null)
            {
                // A checkpoint whose sidecar is torn cannot be verified, so it is passed over, but never silently.
                passedOver.AddRange(unverifiable.Where(name => name != loaded.Info.Name).Select(CheckpointListing.UnreadableSidecar));
                return new LoadedCheckpoint(loaded.Info, loaded.Content) { PassedOver = passedOver, PointerBehind = pointerBehind };
            }
            passedOver.Add(damage!);
        }
        passedOver.AddRange(unverifiable.Select(CheckpointListing.UnreadableSidecar));
        if (candidates.Count == 0 && unverifiable.Count == 0) return null; // no checkpoint at all (at most a torn pointer)
        throw new InvalidDataException(
            $"Run {runId} has checkpoints and none is intact ({string.Join("; ", passedOver)}). Nothing was resumed: " +
            "restore the files from a copy, or start the run over (vlmrm train --fresh, or delete the run's checkpoint folder).");
    }
}
