using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>Real service processes on loopback for integration tests: Azurite, redis-server, silos.</summary>
internal static class LocalServices
{
    public const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string AzuriteBlob => Path.Combine(TestPaths.RepositoryRoot, "tools", "azurite", "node_modules", ".bin", "azurite-blob");

    public static Process StartAzurite(int port, string location) =>
        Start(AzuriteBlob, ["--blobHost", "127.0.0.1", "--blobPort", $"{port}", "--location", location, "--silent", "--skipApiVersionCheck", "--loose"], port);

    public static string AzuriteConnectionString(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    public static Process StartRedis(int port) => Start("redis-server", ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port);

    /// <summary>Starts a process and waits until it accepts connections on <paramref name="port"/>.</summary>
    public static Process Start(string program, IEnumerable<string> arguments, int port, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
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
