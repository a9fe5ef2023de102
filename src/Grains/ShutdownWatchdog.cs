using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VlmRm.Grains;

/// <summary>
/// Ends a silo whose stop outlives its shutdown budget. With Redis gone, Orleans keeps retrying its membership
/// writes during a graceful stop and the process would run on for minutes past SIGTERM; grains have deactivated
/// (learners checkpointed) by then, so what is left undone is the cluster's bookkeeping. The watchdog says which
/// dependencies it cannot reach (endpoints only, never a connection string's secrets) and exits.
/// </summary>
public static partial class ShutdownWatchdog
{
    /// <summary>Time past the host's own shutdown timeout before the process is ended.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>Exit status of a silo the watchdog ended.</summary>
    public const int ExitCode = 3;

    public static void Arm(IHostApplicationLifetime lifetime, TimeSpan budget, VlmRmSiloOptions options, ILogger logger) =>
        lifetime.ApplicationStopping.Register(() => _ = Task.Run(async () =>
        {
            await Task.Delay(budget + Grace);
            var unreachable = new List<string>();
            foreach (var (name, host, port) in Dependencies(options))
            {
                if (!await ReachableAsync(host, port)) unreachable.Add($"{name} at {host}:{port}");
            }
            var missing = unreachable.Count == 0 ? "every dependency answers" : $"unreachable: {string.Join("; ", unreachable)}";
            logger.LogCritical(
                "The silo had not stopped {Budget:F0} s after it was asked to ({Missing}). Grains have deactivated and learners have written their checkpoints where their store answered; cluster membership and grain state may not record this silo's exit. Exiting with status {Status}.",
                (budget + Grace).TotalSeconds, missing, ExitCode);
            await Task.Delay(200); // let the console logger flush
            Exit(ExitCode);
        }));

    /// <summary>The services a silo talks to, by host and port.</summary>
    public static IEnumerable<(string Name, string Host, int Port)> Dependencies(VlmRmSiloOptions options)
    {
        if (options.Clustering == ClusteringKind.Redis && options.RedisConnectionString is { } redis)
        {
            foreach (var endpoint in StackExchange.Redis.ConfigurationOptions.Parse(redis).EndPoints)
            {
                var (host, port) = endpoint switch
                {
                    DnsEndPoint dns => (dns.Host, dns.Port),
                    IPEndPoint ip => (ip.Address.ToString(), ip.Port),
                    _ => (endpoint.ToString() ?? "?", 0),
                };
                yield return ("Redis", host, port == 0 ? 6379 : port);
            }
        }
        if (options.CheckpointStore == CheckpointStoreKind.Blob)
        {
            var uri = options.BlobServiceUri is { } service ? new Uri(service) : options.BlobConnectionString is { } connection ? new BlobServiceClient(connection).Uri : null;
            if (uri is not null) yield return ("blob storage", uri.Host, uri.Port);
        }
    }

    private static async Task<bool> ReachableAsync(string host, int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(host, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Ends the process at once: <see cref="Environment.Exit"/> would wait for the very host shutdown that is stuck.</summary>
    private static void Exit(int status)
    {
        if (OperatingSystem.IsLinux()) LinuxExit(status);
        Environment.FailFast($"shutdown budget spent (status {status})");
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void LinuxExit(int status);
}
