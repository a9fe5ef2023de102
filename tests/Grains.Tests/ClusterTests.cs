using Orleans.TestingHost;
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
        });
        // Submitting the same runs again changes nothing: the sweep is idempotent.
        var again = await sweep.SubmitAsync(runs, maxConcurrent: 2);
        Assert.True(again.IsFinished);
    }

    [Fact]
    public async Task Unknown_run_cannot_be_cancelled()
    {
        var sweep = fixture.Cluster.GrainFactory.GetGrain<ISweepGrain>("empty");
        await Assert.ThrowsAsync<KeyNotFoundException>(() => sweep.CancelRunAsync("nope"));
    }
}
