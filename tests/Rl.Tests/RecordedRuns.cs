using VlmRm.Clip.Models;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

/// <summary>Runs trained to their end into a fresh checkpoint folder (shared by the Rl and Evaluation tests, linked into both).</summary>
internal static class RecordedRuns
{
    /// <summary>A store holding run <paramref name="runId"/>, labelled by the reward <paramref name="config"/> names from <paramref name="models"/>.</summary>
    public static async Task<FileCheckpointStore> RecordAsync(string runId, RunConfig config, ClipRuntimeOptions models, CancellationToken ct)
    {
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory($"vlmrm-{runId}-").FullName);
        var (labeller, model) = RewardLabellers.Create(config.Reward, models);
        using (model)
        {
            using var trainer = new Algorithm1Trainer(config, labeller, runId, store);
            await trainer.RunAsync(cancellationToken: ct);
        }
        return store;
    }
}
