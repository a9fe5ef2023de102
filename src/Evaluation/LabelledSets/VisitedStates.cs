using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Evaluation.LabelledSets;

/// <summary>
/// The states a run visited, as a labelled set for prompt screening: its replay buffer's stored image embeddings (a run
/// recorded with reward.keep_embeddings), each labelled by the task's predicate on the reached state — what the frame
/// shows for the classic-control tasks (<see cref="ClassicControlStates.IsGoal"/>), the environment's success flag
/// (kept with the embedding) for the others. Uniformly drawn states (appendix A) ask how a reward ranks every state;
/// these ask how it ranks the ones the policy actually meets.
/// </summary>
public sealed record VisitedStates(string RunId, RunConfig Config, long Step, SetEmbeddings Embeddings, bool[] Labels, string Labeller)
{
    /// <param name="maxStates">At most this many of the stored transitions, evenly spaced through the buffer.</param>
    public static async Task<VisitedStates> LoadAsync(ICheckpointStore store, string runId, int maxStates, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStates);
        using var latest = await store.LoadLatestAsync(runId, cancellationToken)
            ?? throw new FileNotFoundException($"Run '{runId}' has no checkpoint: no visited states to screen on.");
        var source = $"Checkpoint {latest.Info.Name} of run {runId}";
        var config = RunCheckpoint.ReadConfig(latest.Content, source);
        if (config is not { Reward.KeepEmbeddings: true })
        {
            throw new InvalidDataException($"Run {runId} was recorded without image embeddings: screening on its visited states needs them. " +
                "Record them by setting reward.keep_embeddings: true in the run's configuration (a CLIP reward) and training it again.");
        }
        // Restored into a trainer of the run's shape, whose labeller is asked for nothing (a reward.schedule is not replayed).
        using var trainer = new Algorithm1Trainer(config with { Reward = config.Reward with { Schedule = [] } }, new GroundTruthLabeller(), runId);
        await trainer.RestoreCheckpointAsync(latest.Content, cancellationToken);
        var buffer = trainer.ReplayBuffer;
        if (buffer.Count == 0 || buffer.EmbeddingWidth == 0) throw new InvalidDataException($"{source} holds no stored embeddings.");

        var count = Math.Min(maxStates, buffer.Count);
        var width = buffer.EmbeddingWidth;
        var values = new float[count * width];
        var labels = new bool[count];
        using var states = ClassicControlStates.Supports(config.Env) ? new ClassicControlStates(config.Env) : null;
        for (var k = 0; k < count; k++)
        {
            var i = (int)((long)k * buffer.Count / count);
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(buffer.Embedding(i), values.AsSpan(k * width, width));
            labels[k] = states?.IsGoal(buffer.NextObservation(i)) ?? buffer.Success(i);
        }
        var labeller = states?.GoalPredicate ?? $"the environment's success flag ({config.Env})";
        return new VisitedStates(runId, config, latest.Info.Timesteps, new SetEmbeddings(config.Reward.Model!, count, width, values, FromCache: true), labels, labeller);
    }
}
