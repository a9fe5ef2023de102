using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

public class CheckpointTests
{
    private static RunConfig Dqn(long total) => new()
    {
        Env = "CartPole", Algorithm = "dqn", TotalTimesteps = total, Seed = 3, NumEnvs = 2, CheckpointInterval = 0,
        Dqn = new DqnOptions { LearningStarts = 100, TrainFreq = 4, GradientSteps = 2, BatchSize = 16, TargetUpdateInterval = 50, NetArch = [32, 32] },
        Reward = new RewardSection { BatchSize = 8 },
    };

    private static RunConfig Sac(long total) => new()
    {
        Env = "MountainCar", Algorithm = "sac", TotalTimesteps = total, Seed = 5, NumEnvs = 2,
        Sac = new SacOptions { LearningStarts = 50, TrainFreq = 2, GradientSteps = 2, BatchSize = 16, NetArch = [16, 16] },
        Reward = new RewardSection { BatchSize = 6 },
    };

    public static TheoryData<string> AlgorithmNames => new("dqn", "sac");

    /// <summary>Train, save, load into a fresh trainer, continue: the same actions, observations and losses as never stopping.</summary>
    [Theory]
    [MemberData(nameof(AlgorithmNames))]
    public async Task Resumed_run_continues_the_same_curve(string algorithm)
    {
        var config = algorithm == "dqn" ? Dqn(600) : Sac(300);
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-ckpt-").FullName);
        var ct = TestContext.Current.CancellationToken;

        using var original = new Algorithm1Trainer(config, new GroundTruthLabeller(), "run-a", store);
        while (original.Timesteps < 400 * config.NumEnvs / 2) await original.StepAsync(ct);
        await original.SaveCheckpointAsync(ct);
        var expected = await Trace(original, 60, ct);

        using var resumed = new Algorithm1Trainer(config, new GroundTruthLabeller(), "run-a", store);
        Assert.True(await resumed.TryResumeAsync(ct));
        Assert.Equal(original.Timesteps - 60 * config.NumEnvs, resumed.Timesteps);
        var actual = await Trace(resumed, 60, ct);
        Assert.Equal(expected, actual);
    }

    private static async Task<List<string>> Trace(Algorithm1Trainer trainer, int steps, CancellationToken ct)
    {
        var trace = new List<string>();
        var observation = new float[trainer.EnvSpec.ObservationSize * trainer.Config.NumEnvs];
        var actions = new float[trainer.EnvSpec.ActionSize * trainer.Config.NumEnvs];
        var rng = new Envs.Rng(9);
        for (var t = 0; t < steps; t++)
        {
            var before = trainer.LastTrainStatistics;
            await trainer.StepAsync(ct);
            if (!ReferenceEquals(before, trainer.LastTrainStatistics))
            {
                trace.Add(string.Join(";", trainer.LastTrainStatistics.Values.OrderBy(v => v.Key).Select(v => $"{v.Key}={v.Value:R}")));
            }
        }
        // The policy after the steps, on a fixed observation.
        trainer.Algorithm.Act(observation, trainer.Config.NumEnvs, actions, ActMode.Deterministic, trainer.Timesteps, rng);
        trace.Add(string.Join(",", actions));
        trace.Add($"t={trainer.Timesteps} eval={trainer.Evaluate(2).MeanReturn:R}");
        return trace;
    }

    [Fact]
    public async Task Best_checkpoint_follows_the_highest_training_reward_and_latest_the_newest()
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-ckpt-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "a", new byte[] { 1 }, 10, 5.0, isBest: true, ct);
        await store.SaveAsync("r", "b", new byte[] { 2, 2 }, 20, 9.0, isBest: true, ct);
        await store.SaveAsync("r", "c", new byte[] { 3, 3, 3 }, 30, 1.0, isBest: false, ct);
        Assert.Equal("c", (await store.LoadLatestAsync("r", ct))!.Info.Name);
        Assert.Equal([2, 2], (await store.LoadBestAsync("r", ct))!.Content);
        Assert.Equal(["a", "b", "c"], (await store.ListAsync("r", ct)).Select(i => i.Name));
        Assert.Null(await store.LoadLatestAsync("unknown-run", ct));
    }

    [Fact]
    public async Task A_damaged_checkpoint_is_never_loaded_the_newest_intact_one_is()
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-ckpt-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "a", new byte[] { 1, 1 }, 10, 1, false, ct);
        await store.SaveAsync("r", "b", new byte[] { 2, 2 }, 20, 1, false, ct);
        File.WriteAllBytes(Path.Combine(root, "r", "b.ckpt"), [2, 7]); // bit rot after the fact
        var loaded = await store.LoadLatestAsync("r", ct);
        Assert.Equal("a", loaded!.Info.Name);
        File.WriteAllText(Path.Combine(root, "r", "latest.json"), "{ torn");
        Assert.Equal("a", (await store.LoadLatestAsync("r", ct))!.Info.Name);
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "r"), "*.tmp"));
    }

    [Fact]
    public async Task A_checkpoint_of_another_run_or_a_truncated_one_is_a_clear_error()
    {
        using var dqn = new Algorithm1Trainer(Dqn(100), new GroundTruthLabeller());
        using var sac = new Algorithm1Trainer(Sac(100), new GroundTruthLabeller());
        var ct = TestContext.Current.CancellationToken;
        var bytes = await dqn.CreateCheckpointAsync(ct);
        Assert.Contains("checkpoint is for dqn on 2×CartPole", (await Assert.ThrowsAsync<InvalidDataException>(() => sac.RestoreCheckpointAsync(bytes, ct))).Message);
        Assert.Contains("truncated", (await Assert.ThrowsAsync<InvalidDataException>(() => dqn.RestoreCheckpointAsync(bytes[..(bytes.Length / 2)], ct))).Message);
    }
}
