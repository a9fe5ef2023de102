using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

/// <summary>The two labelling schedules of Algorithm 1: when rewards are awaited, what the run does meanwhile, and what stays exact.</summary>
public class LabellingScheduleTests
{
    private const int B = 40;

    private static RunConfig Config(LabellingScheduleKind schedule, long total = 1_200) => new()
    {
        Env = "CartPole", Algorithm = AlgorithmKind.Dqn, TotalTimesteps = total, Seed = 4, NumEnvs = 2, EpisodeLength = 50,
        Dqn = new DqnOptions { LearningStarts = 100, TrainFreq = 4, GradientSteps = 2, BatchSize = 16, TargetUpdateInterval = 50, NetArch = [16] },
        Reward = new RewardSection { BatchSize = B, Labelling = schedule },
    };

    /// <summary>The environment's reward, after a delay drawn per batch; it notes how far the run got while it labelled.</summary>
    private sealed class SlowLabeller(int seed, int maxDelayMilliseconds) : IRewardLabeller
    {
        private readonly Random _delays = new(seed);
        public Algorithm1Trainer? Trainer { get; set; }
        /// <summary>The run's step count as each batch's rewards were ready.</summary>
        public List<long> StepWhenLabelled { get; } = [];
        public string Name => "slow";
        public FrameSize? Frames => null;

        public async ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken)
        {
            await Task.Delay(_delays.Next(maxDelayMilliseconds / 2, maxDelayMilliseconds + 1), cancellationToken);
            batch.EnvironmentRewards.Span[..batch.Count].CopyTo(rewards.Span);
            StepWhenLabelled.Add(Trainer!.Timesteps);
        }
    }

    [Fact]
    public async Task Overlapped_labelling_collects_the_next_batch_while_one_is_labelled_and_synchronous_waits()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var schedule in Enum.GetValues<LabellingScheduleKind>())
        {
            var labeller = new SlowLabeller(seed: 1, maxDelayMilliseconds: 200);
            using var trainer = new Algorithm1Trainer(Config(schedule, total: 10 * B), labeller);
            labeller.Trainer = trainer;
            await trainer.RunAsync(cancellationToken: ct);
            // Batch k ends at step (k + 1)·B. Synchronous, the run is still there when its rewards come; overlapped, it
            // has collected all of batch k + 1 meanwhile and waits (one batch in flight at most). The last batch is
            // labelled when the run ends.
            var lag = schedule == LabellingScheduleKind.Overlapped ? 1 : 0;
            Assert.Equal(Enumerable.Range(0, 9).Select(k => (long)(k + 1 + lag) * B), labeller.StepWhenLabelled.Take(9));
            Assert.Equal(10, labeller.StepWhenLabelled.Count);
        }
    }

    [Theory]
    [InlineData(LabellingScheduleKind.Synchronous, 1)]
    [InlineData(LabellingScheduleKind.Overlapped, 2)]
    public async Task Every_transition_reaches_the_replay_buffer_within_the_stated_staleness(LabellingScheduleKind schedule, int batches)
    {
        var ct = TestContext.Current.CancellationToken;
        using var trainer = new Algorithm1Trainer(Config(schedule), new GroundTruthLabeller());
        var worst = 0L;
        while (!trainer.IsComplete)
        {
            await trainer.StepAsync(ct);
            worst = Math.Max(worst, trainer.Timesteps - trainer.LabelledTransitions);
        }
        // B is labelled when it cannot take the next vectorized step, so after a step it holds at most B − NumEnvs:
        // fewer than B transitions wait for D synchronously, fewer than 2B overlapped. The bound is reached, never passed.
        Assert.Equal(batches * B - 2, worst);
    }

    [Fact]
    public async Task An_overlapped_run_is_the_same_run_whatever_the_labellers_speed()
    {
        var ct = TestContext.Current.CancellationToken;
        var runs = new List<string>();
        foreach (var (seed, delay) in new[] { (1, 0), (2, 30) })
        {
            var labeller = new SlowLabeller(seed, delay);
            using var trainer = new Algorithm1Trainer(Config(LabellingScheduleKind.Overlapped), labeller);
            labeller.Trainer = trainer;
            await trainer.RunAsync(cancellationToken: ct);
            runs.Add(Fingerprint(trainer));
        }
        Assert.Equal(runs[0], runs[1]);
    }

    [Fact]
    public async Task An_overlapped_run_resumed_from_a_checkpoint_continues_the_same_curve()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = Config(LabellingScheduleKind.Overlapped, total: 1_000) with { CheckpointInterval = 300 };
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-overlapped-").FullName);
        string uninterrupted;
        var slow = new SlowLabeller(3, 10);
        using (var whole = new Algorithm1Trainer(config, slow, "whole", store))
        {
            slow.Trainer = whole;
            await whole.RunAsync(cancellationToken: ct);
            uninterrupted = Fingerprint(whole);
        }
        using (var first = new Algorithm1Trainer(config, new GroundTruthLabeller(), "split", store))
        {
            while (first.Timesteps < 620) await first.StepAsync(ct); // past the checkpoint at 600, then "killed"
        }
        using var resumed = new Algorithm1Trainer(config, new GroundTruthLabeller(), "split", store);
        Assert.True(await resumed.TryResumeAsync(ct));
        Assert.Equal(600, resumed.Timesteps);
        await resumed.RunAsync(cancellationToken: ct);
        Assert.Equal(uninterrupted, Fingerprint(resumed));
    }

    /// <summary>The run's end state: counters, statistics, the last update's losses and the policy's actions on fixed observations.</summary>
    private static string Fingerprint(Algorithm1Trainer trainer)
    {
        var n = trainer.Config.NumEnvs;
        var observations = Enumerable.Range(0, n * trainer.EnvSpec.ObservationSize).Select(i => (float)Math.Sin(i)).ToArray();
        var actions = new float[n * trainer.EnvSpec.ActionSize];
        trainer.Algorithm.Act(observations, n, actions, ActMode.Deterministic, trainer.Timesteps, new Envs.Rng(1));
        var losses = string.Join(";", trainer.LastTrainStatistics.Values.OrderBy(v => v.Key).Select(v => $"{v.Key}={v.Value:R}"));
        var p = trainer.Progress;
        return $"t={p.Timesteps} D={trainer.LabelledTransitions} episodes={p.Episodes} return={p.MeanLabelledReturn:R} {losses} actions={string.Join(",", actions)}";
    }
}
