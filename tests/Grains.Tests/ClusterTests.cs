using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Serialization;
using Orleans.TestingHost;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Logging;
using VlmRm.Abstractions;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains.Tests;

/// <summary>An in-process cluster of two silos sharing a data folder, as two machines share blob storage.</summary>
public sealed class TwoSiloCluster : IAsyncLifetime
{
    public static string DataDirectory { get; } = Directory.CreateTempSubdirectory("vlmrm-cluster-").FullName;

    public TestCluster Cluster { get; } = new TestClusterBuilder(2).AddSiloBuilderConfigurator<Configurator>().Build();

    public async ValueTask InitializeAsync() => await Cluster.DeployAsync();

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = DataDirectory });
    }
}

public class ClusterTests(TwoSiloCluster fixture) : IClassFixture<TwoSiloCluster>
{
    private static List<RunRequest> Runs(string sweep, long steps, long checkpointInterval)
    {
        var spec = SweepSpec.Parse($"""
            name: {sweep}
            tasks:
              - name: cartpole
                preset: cartpole-dqn
            seeds: [0, 1]
            labeller: ground_truth
            total_timesteps: {steps}
            checkpoint_interval: {checkpointInterval}
            """, "test");
        return spec.Expand("test").Select(r => new RunRequest(r.RunId, RunConfigLoader.ToJson(r.Config with { Dqn = r.Config.Dqn! with { LearningStarts = 500, TrainFreq = 16, GradientSteps = 4, NetArch = [32, 32] } }), sweep)).ToList();
    }

    [Fact]
    public async Task A_small_sweep_completes_with_results_on_two_silos()
    {
        var sweep = fixture.Cluster.GrainFactory.GetGrain<ISweepGrain>("small");
        var runs = Runs("small", 3000, 1000);
        Assert.Equal(2, runs.Count);
        var status = await sweep.SubmitAsync(runs, maxConcurrent: 2);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!status.IsFinished && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            status = await sweep.GetStatusAsync();
        }
        Assert.True(status.IsFinished, string.Join("; ", status.Runs.Select(r => $"{r.RunId} {r.State} {r.Timesteps} {r.Error}")));
        Assert.All(status.Runs, r =>
        {
            Assert.Equal(RunState.Done, r.State);
            Assert.Equal(3000, r.Timesteps);
            Assert.True(r.Timesteps > 0 && double.IsFinite(r.MeanGroundTruthReturn), $"{r.RunId} has no episode results");
            Assert.True(File.Exists(Path.Combine(TwoSiloCluster.DataDirectory, "checkpoints", r.RunId, "latest.json")), $"{r.RunId} has no checkpoint");
            var curves = VlmRm.Rl.Logging.TensorBoardReader.ReadScalars(Path.Combine(TwoSiloCluster.DataDirectory, "tensorboard", r.RunId));
            Assert.True(curves.TryGetValue(TrainingScalars.GroundTruthReturn, out var returns) && returns.Count > 0, $"{r.RunId} wrote no TensorBoard curve");
        });
        // Submitting the same runs again changes nothing: the sweep is idempotent.
        var again = await sweep.SubmitAsync(runs, maxConcurrent: 2);
        Assert.True(again.IsFinished);
    }

    /// <summary>
    /// Submitting returns before any learner starts (eight starts in one request outlasted its 30 s timeout on a busy
    /// machine), and a run its learner cannot start (here a configuration from a client that skipped validation) fails
    /// with the reason while the sweep's other runs finish.
    /// </summary>
    [Fact]
    public async Task Submitting_returns_at_once_and_a_run_that_cannot_start_fails_with_its_reason_while_the_others_finish()
    {
        var ct = TestContext.Current.CancellationToken;
        var sweep = fixture.Cluster.GrainFactory.GetGrain<ISweepGrain>("unstartable");
        var good = Runs("unstartable", 1000, 500);
        var config = RunConfigLoader.FromJson(good[0].ConfigJson, good[0].RunId) with { TotalTimesteps = 0 };
        List<RunRequest> runs = [.. good, new RunRequest("unstartable.zero", RunConfigLoader.ToJson(config), "unstartable")];

        var status = await sweep.SubmitAsync(runs, maxConcurrent: 3);
        Assert.All(status.Runs, r => Assert.Equal(RunState.Queued, r.State));
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!status.IsFinished && DateTime.UtcNow < deadline) status = await FaultTests.Poll(sweep, ct);

        Assert.True(status.IsFinished, string.Join("; ", status.Runs.Select(r => $"{r.RunId} {r.State} {r.Timesteps} {r.Error}")));
        var zero = status.Runs.Single(r => r.RunId == "unstartable.zero");
        Assert.Equal(RunState.Failed, zero.State);
        Assert.Contains("total_timesteps: must be positive", zero.Error, StringComparison.Ordinal);
        Assert.All(status.Runs.Where(r => r != zero), r => Assert.Equal((RunState.Done, 1000L), (r.State, r.Timesteps)));
    }

    /// <summary>
    /// A learner activation the cluster replaced (here: another activation's state write, as a new activation makes on
    /// another silo while the old one's silo is cut off) must stop at its next checkpoint, not store its own beside the new
    /// one's; the run goes on in a fresh activation from the newest checkpoint.
    /// </summary>
    [Fact]
    public async Task A_replaced_activation_stops_writing_checkpoints_and_the_run_goes_on_from_the_newest()
    {
        const long total = 20_000, interval = 1_000;
        var ct = TestContext.Current.CancellationToken;
        var runId = "fenced.s0";
        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = total, CheckpointInterval = interval, KeepCheckpoints = 0 };
        config = config with { Dqn = config.Dqn! with { NetArch = [32, 32], GradientSteps = 8 } };
        var learner = fixture.Cluster.GrainFactory.GetGrain<ILearnerGrain>(runId);
        await learner.StartAsync(new RunRequest(runId, RunConfigLoader.ToJson(config), "fenced"));
        while ((await learner.GetStatusAsync()).Timesteps < 3 * interval) await Task.Delay(100, ct);

        // What a new activation does first: read the run's state and write it back with its activation counted.
        var silo = Assert.IsType<InProcessSiloHandle>(fixture.Cluster.Primary);
        var storage = new FileGrainStorage(Path.Combine(TwoSiloCluster.DataDirectory, "state"), silo.SiloHost.Services.GetRequiredService<Serializer>());
        var state = new GrainState<LearnerState>();
        await storage.ReadStateAsync("learner", learner.GetGrainId(), state);
        Assert.True(state.RecordExists, "the run has no stored state");
        state.State!.Activations++;
        await storage.WriteStateAsync("learner", learner.GetGrainId(), state);
        var store = new FileCheckpointStore(Path.Combine(TwoSiloCluster.DataDirectory, "checkpoints"));
        var newestWhenReplaced = await RunEvents.NewestCheckpointAsync(store, runId, ct);

        var deadline = DateTime.UtcNow.AddMinutes(3);
        RunStatus status;
        while (!(status = await learner.GetStatusAsync()).IsFinished && DateTime.UtcNow < deadline) await Task.Delay(300, ct);
        Assert.True(status.State == RunState.Done && status.Timesteps == total, $"{status.State} at {status.Timesteps} {status.Error}");
        var log = await learner.GetLogAsync();
        // The replaced activation saved nothing after the takeover (at most the save it was already making), and the next
        // activation continued from the newest checkpoint.
        var resumedAt = RunEvents.StartAfter(log, state.State.Activations);
        Assert.True(resumedAt is { } r && r >= newestWhenReplaced && r <= newestWhenReplaced + interval,
            $"newest checkpoint {newestWhenReplaced:N0} when the activation was replaced; the next one continued from {resumedAt}:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
    }

    /// <summary>
    /// A learner deactivated while it re-creates a lost environment (as a silo's shutdown does, the moment a grain
    /// directory change took the environment's activation with it) stops with nothing written, and its next activation
    /// resumes from the checkpoint. Before, the re-creation started a second training loop under the deactivation,
    /// which disposed that loop's trainer, and the run failed with "Cannot access a closed Stream" (the chaos test).
    /// </summary>
    [Fact]
    public async Task A_learner_deactivated_while_it_recreates_a_lost_environment_resumes_from_its_checkpoint()
    {
        const long total = 12_000, interval = 1_000;
        var ct = TestContext.Current.CancellationToken;
        var runId = "envlost.s0";
        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = total, CheckpointInterval = interval };
        config = config with { Dqn = config.Dqn! with { NetArch = [32, 32], GradientSteps = 8 } };
        var learner = fixture.Cluster.GrainFactory.GetGrain<ILearnerGrain>(runId);
        await learner.StartAsync(new RunRequest(runId, RunConfigLoader.ToJson(config), "envlost"));
        while ((await learner.GetStatusAsync()).Timesteps < 3 * interval) await Task.Delay(100, ct);
        var store = new FileCheckpointStore(Path.Combine(TwoSiloCluster.DataDirectory, "checkpoints"));

        await fixture.Cluster.GrainFactory.GetGrain<IEnvironmentGrain>(runId).Cast<IGrainManagementExtension>().DeactivateOnIdle(ct);
        var lostBy = DateTime.UtcNow.AddMinutes(1);
        while (!(await learner.GetLogAsync()).Any(l => l.Contains("environment lost", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < lostBy, "the learner never noticed its environment's activation was gone");
            await Task.Delay(20, ct);
        }
        var newestWhenLost = await RunEvents.NewestCheckpointAsync(store, runId, ct);
        var activation = RunEvents.LastActivation(await learner.GetLogAsync());
        // Within the second the learner waits before re-creating its environment.
        await learner.Cast<IGrainManagementExtension>().DeactivateOnIdle(ct);

        var deadline = DateTime.UtcNow.AddMinutes(3);
        RunStatus status;
        while (!(status = await learner.GetStatusAsync()).IsFinished && DateTime.UtcNow < deadline) await Task.Delay(300, ct);
        var log = await learner.GetLogAsync();
        Assert.True(status.State == RunState.Done && status.Timesteps == total, $"{status.State} at {status.Timesteps} {status.Error}:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
        var resumedAt = RunEvents.StartAfter(log, activation);
        Assert.True(resumedAt >= newestWhenLost, $"the checkpoint at {newestWhenLost:N0} was stored when the environment was lost; the next activation continued from {resumedAt}:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
    }

    [Fact]
    public async Task Unknown_run_cannot_be_cancelled()
    {
        var sweep = fixture.Cluster.GrainFactory.GetGrain<ISweepGrain>("empty");
        await Assert.ThrowsAsync<KeyNotFoundException>(() => sweep.CancelRunAsync("nope"));
    }
}

/// <summary>Silo failure: a run whose silo dies continues on the surviving silo from its latest checkpoint.</summary>
public sealed class FaultTests : IAsyncLifetime
{
    private static readonly string Data = Directory.CreateTempSubdirectory("vlmrm-fault-").FullName;
    private readonly TestCluster _cluster = new TestClusterBuilder(2).AddSiloBuilderConfigurator<Configurator>().Build();

    public async ValueTask InitializeAsync() => await _cluster.DeployAsync();

    public async ValueTask DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Killing_a_silo_mid_run_resumes_the_run_elsewhere_from_its_checkpoint(int round)
    {
        const long total = 20_000, interval = 1_000;
        var ct = TestContext.Current.CancellationToken;
        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = total, CheckpointInterval = interval, CheckpointReplayBuffer = true };
        config = config with { Dqn = config.Dqn! with { NetArch = [32, 32], GradientSteps = 8 } };
        ISweepGrain sweep = null!;
        // Placement is random: retry with a fresh sweep until at least one run sits on the silo we will kill
        // (each try has a 7/8 chance; the others are cancelled).
        var victim = _cluster.SecondarySilos[0];
        List<RunRequest> runs = [];
        SweepStatus status = null!;
        List<string> onVictim = [];
        for (var attempt = 0; attempt < 5 && onVictim.Count == 0; attempt++)
        {
            runs = Enumerable.Range(0, 3).Select(seed => new RunRequest($"fault{round}-{attempt}.s{seed}", RunConfigLoader.ToJson(config with { Seed = seed }), "fault")).ToList();
            var attemptSweep = _cluster.GrainFactory.GetGrain<ISweepGrain>($"fault{round}-{attempt}");
            status = await attemptSweep.SubmitAsync(runs, maxConcurrent: 3);
            // Wait until every run has checkpointed at least once.
            while (status.Runs.Any(r => r.Timesteps < 3 * interval)) status = await Poll(attemptSweep, ct);
            // Only runs far from their end: one close to it may finish before the kill lands, with nothing to resume.
            onVictim = status.Runs.Where(r => r.Silo == victim.SiloAddress.ToString() && r.Timesteps <= total / 2).Select(r => r.RunId).ToList();
            if (onVictim.Count == 0)
            {
                foreach (var run in runs) await attemptSweep.CancelRunAsync(run.RunId);
            }
            sweep = attemptSweep;
        }
        Assert.NotEmpty(onVictim);
        var stepsBeforeKill = status.Runs.ToDictionary(r => r.RunId, r => r.Timesteps);
        var store = new VlmRm.Rl.Checkpoints.FileCheckpointStore(Path.Combine(Data, "checkpoints"));
        var checkpointBeforeKill = new Dictionary<string, long>();
        foreach (var runId in onVictim) checkpointBeforeKill[runId] = await RunEvents.NewestCheckpointAsync(store, runId, ct);
        await _cluster.KillSiloAsync(victim, ct);

        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (!status.IsFinished && DateTime.UtcNow < deadline) status = await Poll(sweep, ct);
        Assert.True(status.IsFinished, string.Join("; ", status.Runs.Select(r => $"{r.RunId} {r.State} {r.Timesteps} {r.Error}")));
        Assert.All(status.Runs, r => Assert.Equal(RunState.Done, r.State));
        Assert.All(status.Runs, r => Assert.Equal(total, r.Timesteps));
        foreach (var runId in onVictim)
        {
            var run = status.Runs.Single(r => r.RunId == runId);
            Assert.True(run.Resumes >= 1, $"{runId} was on the killed silo but never resumed");
            Assert.NotEqual(victim.SiloAddress.ToString(), run.Silo);
            // It continued from its checkpoint, as its own events say: not from 0, not from an older checkpoint.
            var starts = RunEvents.Starts(await _cluster.GrainFactory.GetGrain<ILearnerGrain>(runId).GetLogAsync());
            Assert.True(starts.Count >= 2 && starts[1] >= checkpointBeforeKill[runId],
                $"{runId} had a checkpoint at step {checkpointBeforeKill[runId]:N0} when its silo died and continued from {string.Join(", ", starts)}");
        }
        // Every checkpoint any run wrote is intact (size and SHA-256 match its sidecar).
        foreach (var run in runs)
        {
            var checkpoints = await store.ListAsync(run.RunId, ct);
            Assert.NotEmpty(checkpoints);
            foreach (var info in checkpoints)
            {
                var bytes = await File.ReadAllBytesAsync(Path.Combine(Data, "checkpoints", run.RunId, info.Name + ".ckpt"), ct);
                Assert.Equal(info.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
            }
            // Lost work is bounded by the checkpoint interval: the resumed run restarted from a checkpoint
            // at most one interval behind where it was when its silo died.
            var latestBeforeKill = checkpoints.Where(c => c.Timesteps <= stepsBeforeKill[run.RunId]).Max(c => (long?)c.Timesteps) ?? 0;
            Assert.True(stepsBeforeKill[run.RunId] - latestBeforeKill <= interval + 2 * 50, $"{run.RunId}: {stepsBeforeKill[run.RunId] - latestBeforeKill} steps since the last checkpoint");
        }
    }

    internal static async Task<SweepStatus> Poll(ISweepGrain sweep, CancellationToken ct)
    {
        await Task.Delay(300, ct);
        return await sweep.GetStatusAsync();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Data });
    }
}
