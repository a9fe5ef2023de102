using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VlmRm.Abstractions;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// A sweep recovers on its own: three silo processes clustered through a real redis-server (grain state and
/// reminders there too), the client gone, the sweep's own silo killed. Its reminder wakes it on a surviving
/// silo, it polls its run (which resumes from its checkpoint wherever it lands), and the first status a new
/// client reads is the finished run.
/// </summary>
public sealed class SweepRecoveryTests : IDisposable
{
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task A_sweep_whose_silo_died_finishes_its_run_with_no_client_attached()
    {
        var ct = TestContext.Current.CancellationToken;
        var (redis, data, started) = LocalServices.StartRedisCluster(_processes, 3, "--VlmRm:SweepWatchPeriod=00:00:05");
        var silos = started.ToDictionary(s => s.SiloPort, s => s.Process);

        const long total = 12_000;
        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = total, CheckpointInterval = 1_000 };
        config = config with { Dqn = config.Dqn! with { NetArch = [32, 32], GradientSteps = 8 } };
        int killed;
        string sweepName;
        using (var client = await LocalServices.RedisClientAsync(redis, ct))
        {
            var factory = client.Services.GetRequiredService<IClusterClient>();
            Assert.Equal(3, await LocalServices.ActiveSilosAsync(factory, 3));
            // Whichever of the three silos the sweep lands on is the one that dies.
            sweepName = "recover";
            var sweep = factory.GetGrain<ISweepGrain>(sweepName);
            var status = await sweep.SubmitAsync([new RunRequest("recover.s0", RunConfigLoader.ToJson(config), "recover")], 1);
            while (status.Runs[0].Timesteps < 2_000)
            {
                await Task.Delay(300, ct);
                status = await sweep.GetStatusAsync();
            }
            Assert.Equal(RunState.Running, status.Runs[0].State);
            killed = await SiloOfAsync(factory, $"sweep/{sweepName}");
        }
        var checkpointBeforeKill = await RunEvents.NewestCheckpointAsync(new FileCheckpointStore(Path.Combine(data, "checkpoints")), "recover.s0", ct);
        // No client from here on: the sweep's silo dies with a run in flight.
        silos[killed].Kill(entireProcessTree: true);
        var finalCheckpoint = Path.Combine(data, "checkpoints", "recover.s0", $"step-{total:D12}.ckpt");
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (!File.Exists(finalCheckpoint) && DateTime.UtcNow < deadline) await Task.Delay(500, ct);
        Assert.True(File.Exists(finalCheckpoint), $"the run did not reach step {total} within 4 minutes of its sweep's silo dying");

        using (var client = await LocalServices.RedisClientAsync(redis, ct))
        {
            // A run on a surviving silo can finish before the cluster has declared the dead silo dead, and only then do
            // the survivors take over its reminders: wait for that (membership only, the sweep is not touched), then
            // two reminder periods for the sweep to wake and record the finished run.
            var factory = client.Services.GetRequiredService<IClusterClient>();
            Assert.Equal(2, await LocalServices.ActiveSilosAsync(factory, 2, atMost: true));
            await Task.Delay(TimeSpan.FromSeconds(12), ct);
            // The first status a new client reads: the persisted state, written by the sweep's reminder-driven ticks.
            var status = await factory.GetGrain<ISweepGrain>(sweepName).GetStatusAsync();
            var run = Assert.Single(status.Runs);
            Assert.True(run.State == RunState.Done, $"{run.State} at {run.Timesteps}: {run.Error}");
            Assert.Equal(total, run.Timesteps);
            // Had the run been on the dead silo, it continued from its checkpoint, not from 0 or an older one.
            var starts = RunEvents.Starts(await factory.GetGrain<ILearnerGrain>("recover.s0").GetLogAsync());
            Assert.True(starts.Count >= 1 && starts.Skip(1).All(step => step >= checkpointBeforeKill),
                $"the run had a checkpoint at step {checkpointBeforeKill:N0} when the silo died and continued from {string.Join(", ", starts)}");
        }
    }

    /// <summary>The silo port of the silo hosting the grain whose id reads <paramref name="grainId"/>.</summary>
    private static async Task<int> SiloOfAsync(IClusterClient client, string grainId)
    {
#pragma warning disable xUnit1051 // IManagementGrain takes no token.
        var statistics = await client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
#pragma warning restore xUnit1051
        var entry = statistics.FirstOrDefault(s => s.GrainId.ToString() == grainId)
                    ?? throw new InvalidOperationException($"No activation of {grainId}: {string.Join(", ", statistics.Select(s => s.GrainId.ToString()).Where(id => id.StartsWith("sweep", StringComparison.Ordinal)))}");
        return entry.SiloAddress.Endpoint.Port;
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
