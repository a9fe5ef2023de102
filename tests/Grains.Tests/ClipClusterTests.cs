using Orleans.TestingHost;
using VlmRm.Abstractions;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Clip.Synthetic;
using VlmRm.Evaluation;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// CLIP rewards through the cluster with a synthetic CLIP-architecture model (real ONNX Runtime path): frames are
/// rendered by the environment grain and labelled by the reward grain on its silo; the evaluator grain runs EPIC jobs.
/// </summary>
[Collection(ProcessWideMeters.Name)]
public sealed class ClipClusterTests
{
    private const string Model = "Synthetic-ViT/cluster";
    private static ClipRuntimeOptions? _clip;
    private static readonly string Data = Directory.CreateTempSubdirectory("vlmrm-clip-cluster-").FullName;

    [Fact]
    public async Task A_clip_run_labels_its_frames_on_the_environment_silo_and_an_epic_job_completes()
    {
        var ct = TestContext.Current.CancellationToken;
        _clip = new SyntheticModels((Model, new ClipArchitecture())).Options;
        await using var cluster = new TestClusterBuilder(2).AddSiloBuilderConfigurator<Configurator>().Build();
        await cluster.DeployAsync(ct);
        using var metrics = new MeterTotals(instrument => instrument.Meter.Name == VlmRmMetrics.MeterName);

        var run = await RunToTheEndAsync(cluster, "clip", ClipRun(600, 300, new RewardSection { Alpha = 0.5f, BatchSize = 50, FrameWidth = 32, FrameHeight = 32 }), ct);
        Assert.True(double.IsFinite(run.MeanLabelledReturn), "no labelled episode return");
        Assert.True(metrics.Total("vlmrm.env.frames") >= 600, $"{metrics.Total("vlmrm.env.frames")} frames rendered");
        Assert.True(metrics.Total("vlmrm.clip.batch_size") >= 600, "CLIP labelled fewer frames than were rendered");
        Assert.Equal(0, metrics.Total("vlmrm.reward.frame_bytes_across_silos"));
        var log = await cluster.GrainFactory.GetGrain<ILearnerGrain>("clip.s0").GetLogAsync();
        Assert.Contains(log, line => line.Contains($"on {run.Silo}") && line.Contains($"environment on {run.Silo}"));
        Assert.Contains(log, line => line.Contains("done at step 600"));

        var set = SetGenerators.UniformStates("CartPole", 40, seed: 1, Path.Combine(Data, "set"), frameSize: 32);
        var evaluator = cluster.GrainFactory.GetGrain<IEvaluatorGrain>("epic-1");
        var job = await evaluator.SubmitAsync(new EpicJob(set.Directory, [Model], [0f, 0.5f, 1f], [], []));
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (job.State == RunState.Running && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
            job = await evaluator.GetStatusAsync();
        }
        Assert.True(job.State == RunState.Done, $"{job.State} after 3 minutes: {job.Error}");
        Assert.Equal(3, job.Results.Count);
        Assert.All(job.Results, r => Assert.Equal((40, set.GoalCount), (r.States, r.GoalStates)));
        // The grain's figures are the ones this process computes from the set's frames and labels.
        using var model = OnnxClipModel.Load(Model, _clip);
        var frames = Enumerable.Range(0, set.Count).SelectMany(set.ReadFrame).ToArray();
        var rewards = new float[set.Count];
        foreach (var result in job.Results)
        {
            new ClipRewardModel(model, TaskPrompts.For("CartPole")!, result.Alpha).Label(frames, 32, 32, rewards, new float[set.Count * model.EmbedDim]);
            Assert.Equal(EpicDistance.ToGoalLabels(rewards, set.Labels()), result.Epic, 4);
        }
        var missing = await cluster.GrainFactory.GetGrain<IEvaluatorGrain>("epic-2").SubmitAsync(new EpicJob(Path.Combine(Data, "no-such-set"), [Model], [0f], [], []));
        deadline = DateTime.UtcNow.AddMinutes(1);
        while (missing.State == RunState.Running && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
            missing = await cluster.GrainFactory.GetGrain<IEvaluatorGrain>("epic-2").GetStatusAsync();
        }
        Assert.Equal(RunState.Failed, missing.State);
        Assert.Contains("no-such-set", missing.Error);
    }

    [Fact]
    public async Task An_overlapped_clip_run_steps_its_environment_while_the_reward_grain_labels_and_finishes()
    {
        var ct = TestContext.Current.CancellationToken;
        _clip = new SyntheticModels((Model, new ClipArchitecture())).Options;
        await using var cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<Configurator>().Build();
        await cluster.DeployAsync(ct);
        using var metrics = new MeterTotals(instrument => instrument.Meter.Name == VlmRmMetrics.MeterName);

        // A reward.schedule too: α goes to 1 at step 500, through the environment grain's reward grain.
        var schedule = new RewardChangeAt { At = 500, Alpha = 1 };
        var config = ClipRun(1_000, 400, new RewardSection
        {
            BatchSize = 100, FrameWidth = 64, FrameHeight = 64, Labelling = LabellingScheduleKind.Overlapped, KeepEmbeddings = true, Schedule = [schedule],
        });
        var run = await RunToTheEndAsync(cluster, "overlapped", config, ct);
        Assert.True(double.IsFinite(run.MeanLabelledReturn), "no labelled episode return");
        Assert.True(metrics.Total("vlmrm.clip.batch_size") >= 1_000, "CLIP labelled fewer frames than were rendered");
        // The environment grain stepped on while its reward-grain calls were under way.
        Assert.True(metrics.Total("vlmrm.env.steps_while_labelling") > 0, "no step overlapped a labelling");

        // The reward grain's embeddings came back with the labels and were checkpointed beside every transition: the run
        // re-rewards in this process, with no frame and no image tower.
        var store = new VlmRm.Rl.Checkpoints.FileCheckpointStore(Path.Combine(Data, "checkpoints"));
        using var relabelled = await VlmRm.Rl.RunRelabelling.StartAsync(store, "overlapped.s0", "overlapped.relabelled", new VlmRm.Rl.RewardChange(["a cart"], null, 0.5f), 100, _clip, cancellationToken: ct);
        var buffer = relabelled.Trainer.ReplayBuffer;
        Assert.Equal((1_000, 16), (buffer.Count, buffer.EmbeddingWidth));
        Assert.True(Enumerable.Range(0, buffer.Count).Select(buffer.Reward).Distinct().Count() > 10, "the re-rewarded transitions do not differ");

        // As the learner stored them, every transition has the reward in force at the end (α = 1): the first 500 re-rewarded
        // from their embeddings when the schedule changed it, the rest labelled by the reward grain under the new spec.
        using var stored = new VlmRm.Rl.Algorithm1Trainer(config with { Reward = config.Reward with { Schedule = [] } }, new GroundTruthLabeller(), "overlapped.s0", store);
        Assert.True(await stored.TryResumeAsync(ct));
        using var model = OnnxClipModel.Load(Model, _clip);
        var final = new ClipRewardModel(model, new RewardPrompts(config.Reward.Goal, config.Reward.Baseline), 1).Reward;
        var expected = new float[1];
        for (var i = 0; i < stored.ReplayBuffer.Count; i++)
        {
            final.ScoreRows(stored.ReplayBuffer.Embedding(i), expected);
            Assert.Equal(expected[0], stored.ReplayBuffer.Reward(i), 2e-3f);
        }
    }

    /// <summary>
    /// A run of sweeps/humanoid-table1.yaml (the lotus task, the miniature preset) shrunk to 300 steps of 32-pixel
    /// frames before any SAC update: the reward path of a Humanoid run through the cluster, not its learning.
    /// </summary>
    [Fact]
    public async Task A_humanoid_table1_run_renders_on_the_environment_grain_and_is_labelled_by_the_reward_grain()
    {
        var ct = TestContext.Current.CancellationToken;
        _clip = new SyntheticModels((Model, new ClipArchitecture())).Options;
        await using var cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<Configurator>().Build();
        await cluster.DeployAsync(ct);
        using var metrics = new MeterTotals(instrument => instrument.Meter.Name == VlmRmMetrics.MeterName);

        var sweep = Path.Combine(RunConfigLoader.PresetsDirectory, "..", "sweeps", "humanoid-table1.yaml");
        var lotus = SweepSpec.LoadFile(sweep).Expand(sweep).First(r => r.Task == "lotus").Config;
        var config = lotus with
        {
            TotalTimesteps = 300,
            NumEnvs = 1,
            CheckpointInterval = 300,
            EnvOptions = lotus.EnvOptions with { RenderWidth = 32, RenderHeight = 32 },
            Sac = lotus.Sac! with { LearningStarts = 1_000 },
            Reward = lotus.Reward with { Model = Model, BatchSize = 100, FrameWidth = 32, FrameHeight = 32 },
        };
        Assert.Equal(Envs.Mujoco.HumanoidPose.LotusPosition, config.EnvOptions.SuccessPose);

        var run = await RunToTheEndAsync(cluster, "humanoid", config, ct);
        Assert.True(double.IsFinite(run.MeanLabelledReturn), "no labelled episode return");
        Assert.True(metrics.Total("vlmrm.env.frames") >= 300, $"{metrics.Total("vlmrm.env.frames")} frames rendered");
        Assert.True(metrics.Total("vlmrm.clip.batch_size") >= 300, "CLIP labelled fewer frames than were rendered");
        var log = await cluster.GrainFactory.GetGrain<ILearnerGrain>("humanoid.s0").GetLogAsync();
        Assert.Contains(log, line => line.Contains("done at step 300"));
    }

    /// <summary>The quick CartPole preset rewarded by the synthetic CLIP's reading of the paper's prompts, with <paramref name="reward"/>'s batching.</summary>
    private static RunConfig ClipRun(long steps, long checkpointInterval, RewardSection reward) => RunConfigLoader.LoadFile("cartpole-dqn-quick") with
    {
        TotalTimesteps = steps,
        CheckpointInterval = checkpointInterval,
        Reward = reward with { Labeller = LabellerKind.Clip, Model = Model, Goal = ["pole vertically upright on top of the cart"], Baseline = ["pole and cart"] },
    };

    /// <summary>Submits <paramref name="config"/> as a one-run sweep and waits for it: done, at its total.</summary>
    private static async Task<RunStatus> RunToTheEndAsync(TestCluster cluster, string sweepName, RunConfig config, CancellationToken ct)
    {
        var sweep = cluster.GrainFactory.GetGrain<ISweepGrain>(sweepName);
        var status = await sweep.SubmitAsync([new RunRequest($"{sweepName}.s0", RunConfigLoader.ToJson(config), sweepName)], 1);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!status.IsFinished && DateTime.UtcNow < deadline)
        {
            await Task.Delay(300, ct);
            status = await sweep.GetStatusAsync();
        }
        var run = Assert.Single(status.Runs);
        Assert.True(run.State == RunState.Done, $"{run.State}: {run.Error}");
        Assert.Equal(config.TotalTimesteps, run.Timesteps);
        return run;
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Data, Devices = "cpu" }, _clip);
    }
}
