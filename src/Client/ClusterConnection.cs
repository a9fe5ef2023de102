using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;
using VlmRm.Grains;

namespace VlmRm.Client;

/// <summary>
/// The cluster a command talks to: with neither --cluster nor --gateway, a silo started in this process on free
/// loopback ports (grain state and checkpoints under --data, so runs resume across invocations), serving the Orleans
/// dashboard and the runs page on loopback; with --cluster, a Redis connection string of a running cluster; with
/// --gateway, the host:port of a standalone silo's gateway (one machine, no Redis).
/// </summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host, string? dashboard)
    {
        _host = host;
        Dashboard = dashboard;
    }

    /// <summary>The embedded silo's web address (dashboard at /dashboard, runs at /vlmrm); null for a remote cluster.</summary>
    public string? Dashboard { get; }

    public bool Embedded => Dashboard is not null;
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterConnection> OpenAsync(string? redis, string dataDirectory, CancellationToken cancellationToken, string? gateway = null, int dashboardPort = 0)
    {
        var target = Gateway(redis, gateway);
        IHost host;
        if (redis is null && target is null)
        {
            var web = WebApplication.CreateBuilder();
            Quiet(web.Logging);
            web.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Error);
            web.WebHost.UseUrls($"http://127.0.0.1:{dashboardPort}");
            web.Services.AddVlmRmPages();
            web.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(FreePort(), FreePort());
                silo.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = dataDirectory });
                silo.AddDashboard();
            });
            var app = web.Build();
            app.MapVlmRmPages();
            host = app;
        }
        else
        {
            var builder = Host.CreateApplicationBuilder();
            Quiet(builder.Logging);
            builder.UseOrleansClient(client =>
            {
                if (target is { } endpoint) client.UseStaticClustering(endpoint);
                else client.UseRedisClustering(redis!);
                client.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("vlmrm", "vlmrm"));
            });
            host = builder.Build();
        }
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new InvalidOperationException(
                redis is not null ? $"Could not reach the cluster through Redis '{WithoutPassword(redis)}': {e.Message}"
                : target is not null ? $"Could not reach a silo's gateway at {gateway}: {e.Message} (a standalone silo listens on Silo:GatewayPort, 30000 by default)"
                : $"The embedded silo did not start: {e.Message}", e);
        }
        return new ClusterConnection(host, host is WebApplication started ? started.Urls.First() : null);
    }

    private static void Quiet(ILoggingBuilder logging)
    {
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("Orleans", LogLevel.Error);
        // A host that fails to start is reported in one line; its own log would repeat it as a stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
    }

    /// <summary>The gateway --gateway names (null without one); an error when it is not host:port or comes with --cluster.</summary>
    public static IPEndPoint? Gateway(string? redis, string? gateway)
    {
        if (redis is not null && gateway is not null) throw new ArgumentException("--cluster and --gateway each name a cluster: give one of them.");
        return gateway is { } address ? ParseGateway(address) : null;
    }

    /// <summary>A gateway address, host:port (a name, or an IPv4 or bracketed IPv6 address).</summary>
    private static IPEndPoint ParseGateway(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"--gateway: '{address}' is not host:port (e.g. 127.0.0.1:30000, a standalone silo's Silo:GatewayPort).");
        }
        var host = address[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        try
        {
            return new IPEndPoint(Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork), port);
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            throw new ArgumentException($"--gateway: no IPv4 address for host '{host}'.", e);
        }
    }

    /// <summary>A Redis connection string fit for an error message: its password left out.</summary>
    public static string WithoutPassword(string redis)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(redis).ToString(includePassword: false);
        }
        catch (ArgumentException)
        {
            return "(a connection string that does not parse)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
