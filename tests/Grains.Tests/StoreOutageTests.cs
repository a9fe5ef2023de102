using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Abstractions;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains.Tests;

/// <summary>
/// A run that starts (or moves silo) while blob storage is down waits for the store instead of failing: it cannot
/// know whether a checkpoint exists until the store answers. Found by the secrets test, whose run failed when
/// Azurite stopped just as the run started ("Retry failed after 6 tries").
/// </summary>
public sealed class StoreOutageTests : IDisposable
{
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task A_run_started_while_blob_storage_is_down_waits_for_it_and_finishes()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.SkipUnless(File.Exists(LocalServices.AzuriteBlob), "Azurite is not installed in tools/azurite (run ./vlmrm setup)");
        var blobPort = LocalServices.FreePort();
        var (redis, _, _) = LocalServices.StartRedisCluster(_processes, 1,
            "--VlmRm:CheckpointStore=blob", $"--VlmRm:BlobConnectionString={LocalServices.AzuriteConnectionString(blobPort)}");
        using var host = await LocalServices.RedisClientAsync(redis, ct);
        var client = host.Services.GetRequiredService<IClusterClient>();
        Assert.Equal(1, await LocalServices.ActiveSilosAsync(client, 1));

        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = 3_000, CheckpointInterval = 1_000 };
        config = config with { Dqn = config.Dqn! with { NetArch = [32, 32], GradientSteps = 8 } };
        var sweep = client.GetGrain<ISweepGrain>("outage");
        await sweep.SubmitAsync([new RunRequest("outage.s0", RunConfigLoader.ToJson(config), "outage")], 1);
        var learner = client.GetGrain<ILearnerGrain>("outage.s0");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!(await learner.GetLogAsync()).Any(l => l.Contains("checkpoint store unreachable", StringComparison.Ordinal)) && DateTime.UtcNow < deadline) await Task.Delay(500, ct);
        var waiting = await learner.GetStatusAsync();
        Assert.True(waiting.State == RunState.Running, $"{waiting.State}: {waiting.Error}");
        Assert.Contains(await learner.GetLogAsync(), l => l.Contains("checkpoint store unreachable", StringComparison.Ordinal));

        _processes.Add(LocalServices.StartAzurite(blobPort, Directory.CreateTempSubdirectory("vlmrm-outage-blob-").FullName));
        deadline = DateTime.UtcNow.AddMinutes(4);
        RunStatus status;
        while ((status = await learner.GetStatusAsync()).State == RunState.Running && DateTime.UtcNow < deadline) await Task.Delay(500, ct);
        Assert.True(status.State == RunState.Done, $"{status.State} at {status.Timesteps}: {status.Error}");
        Assert.Equal(config.TotalTimesteps, status.Timesteps);
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
