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
        var silo = Path.Combine(TestPaths.RepositoryRoot, "src", "Silo", "bin", "Release", "net10.0", "VlmRm.Silo.dll");
        Assert.SkipUnless(File.Exists(silo), $"the silo is not built in Release ({silo}); ./vlmrm test builds it");
        Assert.SkipWhen(!File.Exists("/usr/bin/redis-server"), "redis-server is not installed (./vlmrm setup installs it)");
        var ct = TestContext.Current.CancellationToken;
        var redisPort = LocalServices.FreePort();
        _processes.Add(LocalServices.StartRedis(redisPort));
        var redis = $"127.0.0.1:{redisPort}";
        var data = Directory.CreateTempSubdirectory("vlmrm-redis-").FullName;
        var dashboardPort = 0;
        for (var i = 0; i < 2; i++)
        {
            var (siloPort, gatewayPort, httpPort) = (LocalServices.FreePort(), LocalServices.FreePort(), LocalServices.FreePort());
            if (i == 0) dashboardPort = httpPort;
            _processes.Add(LocalServices.Start("dotnet", [silo,
                "--VlmRm:Clustering=redis", $"--VlmRm:RedisConnectionString={redis}", $"--VlmRm:DataDirectory={data}",
                $"--Silo:SiloPort={siloPort}", $"--Silo:GatewayPort={gatewayPort}", $"--Dashboard:Urls=http://127.0.0.1:{httpPort}"], gatewayPort));
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(redis);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("vlmrm", "vlmrm"));
        });
        using var host = builder.Build();
        await host.StartAsync(ct);
        var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        var active = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (active < 2 && DateTime.UtcNow < deadline)
        {
#pragma warning disable xUnit1051 // IManagementGrain.GetHosts takes no token; WaitAsync bounds the wait instead.
            active = (await management.GetHosts(onlyActive: true).WaitAsync(ct)).Count;
#pragma warning restore xUnit1051
            if (active < 2) await Task.Delay(500, ct);
        }
        Assert.Equal(2, active);

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
