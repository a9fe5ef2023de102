using VlmRm.Clip.Models;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Logging;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl;

/// <summary>What changes in a re-rewarded run: its prompts and α (null keeps the source run's).</summary>
public sealed record RewardChange(IReadOnlyList<string>? Goal, IReadOnlyList<string>? Baseline, float? Alpha);

/// <summary>A run continued from another run's checkpoint with a new reward, ready to train; dispose it with its model.</summary>
public sealed class RelabelledRun(Algorithm1Trainer trainer, IDisposable? model, long fromStep, bool resumed, TimeSpan relabelling) : IDisposable
{
    /// <summary>How long re-scoring the replay buffer's embeddings took (zero when the run resumed its own checkpoint).</summary>
    public TimeSpan Relabelling => relabelling;

    public Algorithm1Trainer Trainer => trainer;

    /// <summary>The source run's step the new run starts from.</summary>
    public long FromStep => fromStep;

    /// <summary>True when the new run already had checkpoints and continued from its own newest one.</summary>
    public bool Resumed => resumed;

    public void Dispose()
    {
        trainer.Dispose();
        model?.Dispose();
    }
}

/// <summary>
/// Re-rewarding a run from its stored embeddings (beyond the paper): the source run's newest checkpoint, recorded with
/// reward.keep_embeddings, is restored into a new run whose reward has other prompts or α; its replay buffer is
/// re-scored with Eq. 2–3 alone (the text tower embeds the new prompts; no frame is rendered and the image tower does not
/// run), and the new run trains on from there. Frames it collects from then on are labelled with the new reward.
/// </summary>
public static class RunRelabelling
{
    /// <param name="additionalSteps">Steps the new run trains past the checkpoint; null: as many as the source run's total.</param>
    public static async Task<RelabelledRun> StartAsync(ICheckpointStore store, string sourceRun, string newRun, RewardChange change, long? additionalSteps,
        ClipRuntimeOptions clip, ITrainingLog? log = null, CancellationToken cancellationToken = default)
    {
        if (newRun == sourceRun) throw new ArgumentException($"The re-rewarded run needs its own id, not the source run's ('{sourceRun}'): its checkpoints are a new run's.");
        using var source = await store.LoadLatestAsync(sourceRun, cancellationToken)
            ?? throw new FileNotFoundException($"Run '{sourceRun}' has no checkpoint to re-reward from (is the checkpoint folder right? the run's id as `vlmrm runs` lists it?).");
        var config = RunCheckpoint.ReadConfig(source.Content, $"Checkpoint {source.Info.Name} of run {sourceRun}")
            ?? throw new InvalidDataException($"Checkpoint {source.Info.Name} of run {sourceRun} predates checkpoint format 4 and does not record its configuration or embeddings; re-rewarding needs a run recorded with reward.keep_embeddings: true.");
        if (config.Reward.Labeller != LabellerKind.Clip || !config.Reward.KeepEmbeddings)
        {
            throw new InvalidDataException($"Run {sourceRun} was recorded without image embeddings ({ConfigSpelling.Of(config.Reward.Labeller)} reward, keep_embeddings: {(config.Reward.KeepEmbeddings ? "true" : "false")}): " +
                "there is nothing to re-reward without the image tower. Record them by setting reward.keep_embeddings: true in the run's configuration (a CLIP reward) and training it again.");
        }
        if (!config.CheckpointReplayBuffer) throw new InvalidDataException($"Run {sourceRun} checkpoints without its replay buffer (checkpoint_replay_buffer: false): its embeddings were not stored.");
        // The reward in force at the checkpoint (a run with a reward.schedule may have changed it), changed: the new run's
        // reward from its first step, with no schedule of its own.
        var current = config.Reward.At(source.Info.Timesteps);
        var reward = current with
        {
            Goal = [.. change.Goal ?? current.Goal],
            Baseline = [.. change.Baseline ?? current.Baseline],
            Alpha = change.Alpha ?? current.Alpha,
        };
        var newConfig = config with { Reward = reward, TotalTimesteps = source.Info.Timesteps + (additionalSteps ?? config.TotalTimesteps) };
        RunConfigLoader.Validate(newConfig, $"re-rewarded run {newRun}");

        var (labeller, model) = RewardLabellers.Create(reward, clip);
        Algorithm1Trainer? trainer = null;
        try
        {
            trainer = new Algorithm1Trainer(newConfig, labeller, newRun, store, log);
            if (await trainer.TryResumeAsync(cancellationToken)) return new RelabelledRun(trainer, model, source.Info.Timesteps, resumed: true, TimeSpan.Zero);
            await trainer.RestoreCheckpointAsync(source.Content, cancellationToken);
            var stored = trainer.ReplayBuffer.EmbeddingWidth;
            var clipReward = ((ClipLabeller)labeller).Reward;
            if (stored != clipReward.Dimension)
            {
                throw new InvalidDataException($"Model {reward.Model} embeds to {clipReward.Dimension} values, but run {sourceRun}'s stored embeddings have {stored}: " +
                    "they were made by another model, and only the model that made them can re-reward them.");
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            trainer.RelabelReplayBuffer(clipReward);
            return new RelabelledRun(trainer, model, source.Info.Timesteps, resumed: false, clock.Elapsed);
        }
        catch
        {
            trainer?.Dispose();
            model?.Dispose();
            throw;
        }
    }
}
