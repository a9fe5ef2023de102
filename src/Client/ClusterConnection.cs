using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VlmRm.Grains;

namespace VlmRm.Client;

/// <summary>
/// The cluster a command talks to: with no --cluster, a silo started in this process on free loopback
/// ports (grain state and checkpoints under --data, so runs resume across invocations); with
/// --cluster, a Redis connection string of a running cluster.
/// </summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host, bool embedded)
    {
        _host = host;
        Embedded = embedded;
    }

    public bool Embedded { get; }
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterConnection> OpenAsync(string? redis, string dataDirectory, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        // A host that fails to start is reported below in one line; its own log would repeat it as a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        if (redis is null)
        {
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(FreePort(), FreePort());
                silo.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = dataDirectory });
            });
        }
        else
        {
            builder.UseOrleansClient(client =>
            {
                client.UseRedisClustering(redis);
                client.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("vlmrm", "vlmrm"));
            });
        }
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new InvalidOperationException(redis is null
                ? $"The embedded silo did not start: {e.Message}"
                : $"Could not reach the cluster through Redis '{WithoutPassword(redis)}': {e.Message}", e);
        }
        return new ClusterConnection(host, redis is null);
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
