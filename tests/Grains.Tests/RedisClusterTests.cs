using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>Two silo processes on loopback form one cluster through a real redis-server; a client joins through Redis.</summary>
public sealed class RedisClusterTests : IDisposable
{
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task Two_silo_processes_cluster_through_redis_and_serve_the_dashboard()
    {
        var ct = TestContext.Current.CancellationToken;
        var (redis, _, silos) = LocalServices.StartRedisCluster(_processes, 2);
        var dashboardPort = silos[0].DashboardPort;

        using var host = await LocalServices.RedisClientAsync(redis, ct);
        Assert.Equal(2, await LocalServices.ActiveSilosAsync(host.Services.GetRequiredService<IClusterClient>(), 2));

        using var http = new HttpClient();
        var page = await http.GetAsync(new Uri($"http://127.0.0.1:{dashboardPort}/dashboard"), ct);
        Assert.True(page.IsSuccessStatusCode, $"dashboard answered {(int)page.StatusCode}");
        // OpenTelemetry metrics in Prometheus text: VlmRm's gauges are there from the start, Orleans' own meter too.
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{dashboardPort}/metrics"), ct);
        Assert.Contains("vlmrm_env_frames_awaiting_labels", metrics);
        Assert.Contains("vlmrm_reward_queue_depth", metrics);
        Assert.Contains("orleans_", metrics);
        await host.StopAsync(ct);
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
