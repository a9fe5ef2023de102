using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Net;
using System.Net.Sockets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>Real service processes on loopback for integration tests: Azurite, redis-server, silos.</summary>
internal static class LocalServices
{
    public const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static int FreePort() => LoopbackPorts.Free();

    public static string AzuriteBlob => Path.Combine(TestPaths.RepositoryRoot, "tools", "azurite", "node_modules", ".bin", "azurite-blob");

    public static Process StartAzurite(int port, string location) =>
        Start(AzuriteBlob, ["--blobHost", "127.0.0.1", "--blobPort", $"{port}", "--location", location, "--silent", "--skipApiVersionCheck", "--loose"], port);

    public static string AzuriteConnectionString(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    /// <summary>The standalone silo as built in Release (./vlmrm test builds it).</summary>
    public static string SiloDll => Path.Combine(TestPaths.RepositoryRoot, "src", "Silo", "bin", "Release", "net10.0", "VlmRm.Silo.dll");

    /// <summary>
    /// A standalone silo process clustered through <paramref name="redis"/>, on free loopback ports, with <paramref name="settings"/>
    /// and <paramref name="environment"/> (e.g. a GC heap limit); returns it with its silo and dashboard ports.
    /// </summary>
    public static (Process Process, int SiloPort, int DashboardPort, int GatewayPort) StartRedisSilo(string redis, string dataDirectory, string[] settings, IDictionary<string, string>? environment = null)
    {
        var (siloPort, gatewayPort, httpPort) = (FreePort(), FreePort(), FreePort());
        var process = Start("dotnet", [SiloDll,
            "--VlmRm:Clustering=redis", $"--VlmRm:RedisConnectionString={redis}", $"--VlmRm:DataDirectory={dataDirectory}",
            $"--Silo:SiloPort={siloPort}", $"--Silo:GatewayPort={gatewayPort}", $"--Dashboard:Urls=http://127.0.0.1:{httpPort}", .. settings], gatewayPort, environment);
        return (process, siloPort, httpPort, gatewayPort);
    }

    /// <summary>
    /// A redis-server and <paramref name="silos"/> silo processes clustered through it, each with <paramref name="settings"/>;
    /// skips the test where the silo is not built or redis-server not installed. Every process is added to
    /// <paramref name="processes"/>, for the test to stop.
    /// </summary>
    public static (string Redis, string Data, List<(Process Process, int SiloPort, int DashboardPort, int GatewayPort)> Silos) StartRedisCluster(List<Process> processes, int silos, params string[] settings)
    {
        Assert.SkipUnless(File.Exists(SiloDll), $"the silo is not built in Release ({SiloDll}); ./vlmrm test builds it");
        Assert.SkipWhen(!File.Exists("/usr/bin/redis-server"), "redis-server is not installed (./vlmrm setup installs it)");
        var redisPort = FreePort();
        processes.Add(StartRedis(redisPort));
        var redis = $"127.0.0.1:{redisPort}";
        var data = Directory.CreateTempSubdirectory("vlmrm-redis-").FullName;
        var started = new List<(Process Process, int SiloPort, int DashboardPort, int GatewayPort)>();
        for (var i = 0; i < silos; i++)
        {
            var silo = StartRedisSilo(redis, data, settings);
            processes.Add(silo.Process);
            started.Add(silo);
        }
        return (redis, data, started);
    }

    /// <summary>
    /// A client of the cluster that <paramref name="redis"/> lists, started; given <paramref name="gatewayPort"/>, it enters
    /// only through that silo's gateway (so grains placed on their caller's silo land there).
    /// </summary>
    public static async Task<IHost> RedisClientAsync(string redis, CancellationToken ct, int? gatewayPort = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            if (gatewayPort is { } port) client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, port));
            else client.UseRedisClustering(redis);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("vlmrm", "vlmrm"));
        });
        var host = builder.Build();
        await host.StartAsync(ct);
        return host;
    }

    /// <summary>
    /// Active silos, once <paramref name="expected"/> have joined (or, <paramref name="atMost"/>, once no more than that
    /// remain: dead ones declared so) or after 90 s.
    /// </summary>
    public static async Task<int> ActiveSilosAsync(IClusterClient client, int expected, bool atMost = false)
    {
        var ct = TestContext.Current.CancellationToken;
        var management = client.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
#pragma warning disable xUnit1051 // IManagementGrain.GetHosts takes no token; WaitAsync bounds the wait instead.
            var active = (await management.GetHosts(onlyActive: true).WaitAsync(ct)).Count;
#pragma warning restore xUnit1051
            if ((atMost ? active <= expected : active >= expected) || DateTime.UtcNow >= deadline) return active;
            await Task.Delay(500, ct);
        }
    }

    /// <summary>A redis-server on loopback; with <paramref name="directory"/> it keeps an append-only file there (fsync per write), so a restart keeps its data.</summary>
    public static Process StartRedis(int port, string? password = null, string? directory = null) =>
        Start("redis-server", [
            "--port", $"{port}", "--bind", "127.0.0.1", "--save", "",
            .. directory is null ? ["--appendonly", "no"] : new[] { "--dir", directory, "--appendonly", "yes", "--appendfsync", "always" },
            .. password is null ? Array.Empty<string>() : ["--requirepass", password]], port);

    /// <summary>What a process started here has written to stdout and stderr so far.</summary>
    public static string OutputOf(Process process) => Outputs.TryGetValue(process.Id, out var lines) ? string.Join('\n', lines) : "";

    private static readonly ConcurrentDictionary<int, ConcurrentQueue<string>> Outputs = new();

    /// <summary>Starts a process and waits until it accepts connections on <paramref name="port"/>.</summary>
    public static Process Start(string program, IEnumerable<string> arguments, int port, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = Outputs[process.Id] = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => { if (line.Data is { } text) output.Enqueue(text); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is { } text) output.Enqueue(text); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{program} exited with {process.ExitCode} before listening on {port}.");
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        Stop(process);
        throw new TimeoutException($"{program} did not listen on {port} within 60 s.");
    }

    public static void Stop(Process process)
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }

    /// <summary>SIGTERM and wait: the service shuts down as in a maintenance outage, keeping its data.</summary>
    public static void Terminate(Process process)
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", $"{process.Id}"]);
            kill?.WaitForExit();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20))) process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
        process.Dispose();
    }
}
