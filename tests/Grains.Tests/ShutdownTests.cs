using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>A silo asked to stop while its dependencies are unreachable exits within its shutdown budget.</summary>
public sealed class ShutdownTests : IDisposable
{
    private const int BudgetSeconds = 10;
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task A_silo_whose_redis_is_gone_exits_within_its_shutdown_budget()
    {
        var ct = TestContext.Current.CancellationToken;
        var (redis, _, silos) = LocalServices.StartRedisCluster(_processes, 1, $"--Silo:ShutdownSeconds={BudgetSeconds}");
        using (var host = await LocalServices.RedisClientAsync(redis, ct))
        {
            Assert.Equal(1, await LocalServices.ActiveSilosAsync(host.Services.GetRequiredService<IClusterClient>(), 1));
        }
        LocalServices.Stop(_processes[0]); // redis-server
        _processes.RemoveAt(0);
        var silo = silos[0].Process;
        var clock = Stopwatch.StartNew();
        using (var term = Process.Start("kill", ["-TERM", $"{silo.Id}"])) await term!.WaitForExitAsync(ct);
        var exited = silo.WaitForExit(TimeSpan.FromSeconds(BudgetSeconds + 20));
        clock.Stop();
        Assert.True(exited, $"the silo was still running {clock.Elapsed.TotalSeconds:F0} s after SIGTERM (budget {BudgetSeconds} s)");
        Assert.True(clock.Elapsed.TotalSeconds < BudgetSeconds + 10, $"the silo took {clock.Elapsed.TotalSeconds:F1} s to exit (budget {BudgetSeconds} s)");
        Assert.Equal(ShutdownWatchdog.ExitCode, silo.ExitCode);
        Assert.Contains($"unreachable: Redis at {redis}", LocalServices.OutputOf(silo));
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
