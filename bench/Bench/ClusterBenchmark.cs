using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VlmRm.Abstractions;
using VlmRm.Grains;
using VlmRm.TestSupport;
using VlmRm.Rl;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Bench;

/// <summary>
/// The same CartPole DQN run (ground-truth reward) in-process vs through the embedded single-silo
/// cluster, and two runs on one silo vs spread over two silos of this machine; wall-clock steps/s.
/// </summary>
internal static class ClusterBenchmark
{
    private const long Steps = 20_000;

    public static void Run()
    {
        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = Steps, CheckpointInterval = 5_000 };
        var inProcess = InProcess(config);
        var oneSilo = Cluster(config, silos: 1, runs: 1);
        Console.WriteLine("| same run (CartPole DQN, ground truth, 20k steps, checkpoints every 5k) | training steps/s | ratio | wall-clock steps/s | ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine($"| in-process `Algorithm1Trainer` | {inProcess.Training:N0} | 1.00× | {inProcess.Wall:N0} | 1.00× |");
        Console.WriteLine($"| embedded single-silo cluster (sweep, learner and environment grains) | {oneSilo.Training:N0} | {oneSilo.Training / inProcess.Training:F2}× | {oneSilo.Wall:N0} | {oneSilo.Wall / inProcess.Wall:F2}× |");
        Console.WriteLine();
        Console.WriteLine("Training steps/s: the trainer's own clock (from its construction to its last step), the same code in both.");
        Console.WriteLine("Wall-clock adds, for the cluster, submitting the sweep, activating grains and the sweep's 0.5 s status polling.");
        Console.WriteLine();
        var twoRunsOneSilo = Cluster(config, silos: 1, runs: 2);
        using var traffic = SiloTraffic();
        var twoRunsTwoSilos = Cluster(config, silos: 2, runs: 2);
        Console.WriteLine("| two runs at once | total training steps/s | ratio |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| one silo | {twoRunsOneSilo.Training:N0} | 1.00× |");
        Console.WriteLine($"| two silos on this machine | {twoRunsTwoSilos.Training:N0} | {twoRunsTwoSilos.Training / twoRunsOneSilo.Training:F2}× |");
        Console.WriteLine();
        Console.WriteLine($"Bytes between the two silos during that run ({2 * Steps:N0} steps): {Report(traffic)}");
    }

    private const string FrameBytesAcrossSilos = "vlmrm.reward.frame_bytes_across_silos";

    /// <summary>
    /// Orleans' own messaging counters of what was sent (meter Microsoft.Orleans; they count socket traffic
    /// between silos, not local calls) and VlmRm's count of frame bytes sent to a reward grain on another silo.
    /// </summary>
    private static MeterTotals SiloTraffic() => new(instrument =>
        instrument.Meter.Name == "Microsoft.Orleans" && instrument.Name.Contains("messaging", StringComparison.Ordinal) && instrument.Name.Contains("sent", StringComparison.Ordinal)
        || instrument.Name == FrameBytesAcrossSilos);

    private static string Report(MeterTotals traffic)
    {
        var totals = new Dictionary<string, long>(traffic.Totals());
        totals.TryAdd(FrameBytesAcrossSilos, 0);
        return string.Join(", ", totals.OrderBy(t => t.Key).Select(t => $"{t.Key} = {t.Value:N0}"));
    }

    private readonly record struct Speed(double Training, double Wall);

    private static Speed InProcess(RunConfig config)
    {
        var clock = Stopwatch.StartNew();
        var store = new VlmRm.Rl.Checkpoints.FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-bench-").FullName);
        using var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller(), "bench", store);
        var progress = trainer.RunAsync().GetAwaiter().GetResult();
        return new Speed(progress.StepsPerSecond, Steps / clock.Elapsed.TotalSeconds);
    }

    /// <summary>Wall-clock steps/s of <paramref name="runs"/> runs submitted as one sweep to a cluster of <paramref name="silos"/> silos in this process.</summary>
    private static Speed Cluster(RunConfig config, int silos, int runs)
    {
        var data = Directory.CreateTempSubdirectory("vlmrm-bench-cluster-").FullName;
        var hosts = StartSilos(silos, data);
        try
        {
            var requests = Enumerable.Range(0, runs).Select(s => new RunRequest($"bench-{silos}-{runs}.s{s}", RunConfigLoader.ToJson(config with { Seed = s }), null)).ToList();
            var clock = Stopwatch.StartNew();
            var status = RunSweep(hosts[0], $"bench-{silos}-{runs}", requests);
            return new Speed(status.Runs.Sum(r => r.StepsPerSecond), runs * Steps / clock.Elapsed.TotalSeconds);
        }
        finally
        {
            StopSilos(hosts);
        }
    }

    /// <summary><paramref name="silos"/> silos in this process on free loopback ports, clustered with the first; grain state and checkpoints under <paramref name="data"/>.</summary>
    internal static List<IHost> StartSilos(int silos, string data)
    {
        var primary = new IPEndPoint(IPAddress.Loopback, FreePort());
        var hosts = new List<IHost>();
        for (var i = 0; i < silos; i++)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Error);
            var siloPort = i == 0 ? primary.Port : FreePort();
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort, FreePort(), primary);
                silo.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = data });
            });
            var host = builder.Build();
            host.StartAsync().GetAwaiter().GetResult();
            hosts.Add(host);
        }
        return hosts;
    }

    /// <summary>Submits <paramref name="requests"/> as one sweep, all at once, and waits until every run is done (throws naming any that is not).</summary>
    internal static SweepStatus RunSweep(IHost silo, string name, IReadOnlyList<RunRequest> requests)
    {
        var sweep = silo.Services.GetRequiredService<IClusterClient>().GetGrain<ISweepGrain>(name);
        var status = sweep.SubmitAsync(requests, requests.Count).GetAwaiter().GetResult();
        while (!status.IsFinished)
        {
            Thread.Sleep(100);
            status = sweep.GetStatusAsync().GetAwaiter().GetResult();
        }
        if (status.Runs.Any(r => r.State != RunState.Done)) throw new InvalidOperationException(string.Join("; ", status.Runs.Select(r => $"{r.RunId}: {r.State} {r.Error}")));
        return status;
    }

    internal static void StopSilos(List<IHost> hosts)
    {
        foreach (var host in Enumerable.Reverse(hosts))
        {
            host.StopAsync().GetAwaiter().GetResult();
            host.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
