namespace VlmRm.Rl.Checkpoints;

/// <summary>
/// Which checkpoints a run keeps (keep_checkpoints): the newest N and the best, the one the paper evaluates
/// (highest training reward, the earliest of equals, as the trainer marks it). 0 keeps every checkpoint; a
/// Humanoid run that saves its 3 GB replay buffer every 128k steps would otherwise keep 78 of them.
/// </summary>
public static class CheckpointRetention
{
    /// <summary>The checkpoints of <paramref name="checkpoints"/> the policy lets go.</summary>
    public static IReadOnlyList<CheckpointInfo> Expired(IReadOnlyList<CheckpointInfo> checkpoints, int keepLast)
    {
        if (keepLast <= 0) return [];
        var byStep = checkpoints.OrderBy(c => c.Timesteps).ToList();
        var best = byStep.Where(c => double.IsFinite(c.TrainingReward)).OrderByDescending(c => c.TrainingReward).ThenBy(c => c.Timesteps).FirstOrDefault();
        return byStep.Take(Math.Max(0, byStep.Count - keepLast)).Where(c => c != best).ToList();
    }

    /// <summary>Deletes the expired checkpoints of <paramref name="runId"/>; returns how many went.</summary>
    public static async Task<int> PruneAsync(ICheckpointStore store, string runId, int keepLast, CancellationToken cancellationToken)
    {
        if (keepLast <= 0) return 0;
        var expired = Expired(await store.ListAsync(runId, cancellationToken), keepLast);
        foreach (var checkpoint in expired) await store.DeleteAsync(checkpoint, cancellationToken);
        return expired.Count;
    }
}
