using VlmRm.Bench;

var suites = new Dictionary<string, Action>(StringComparer.OrdinalIgnoreCase)
{
    ["envs"] = EnvsBenchmark.Run,
    ["clip"] = ClipBenchmark.Run,
    ["rl"] = RlBenchmark.Run,
    ["mujoco"] = MujocoBenchmark.Run,
    ["cluster"] = ClusterBenchmark.Run,
    ["cliptrain"] = ClipTrainingBenchmark.Run,
    ["paper"] = PaperScaleBenchmark.Run,
    ["pipeline"] = PipelineBenchmark.RunCartPole,
    ["pipeline-humanoid"] = PipelineBenchmark.RunHumanoid,
    ["relabel"] = RelabelBenchmark.Run,
    ["towers"] = TowerBenchmark.Run,
    // The chaos run at the reliability issue's size: three silo processes, Redis, Azurite, 20 kills and a 60 s outage (docs/RELIABILITY.md).
    ["chaos"] = () => GrainsTestBenchmark.Run("ChaosTests", "chaos.md", new Dictionary<string, string> { ["VLMRM_CHAOS_KILLS"] = "20", ["VLMRM_CHAOS_OUTAGE_SECONDS"] = "60" }),
    // The soak: 100 kills, Redis restarted and blob storage down 60 s five times each (every 20 kills).
    ["soak"] = () => GrainsTestBenchmark.Run("ChaosTests", "chaos.md", new Dictionary<string, string> { ["VLMRM_CHAOS_KILLS"] = "100", ["VLMRM_CHAOS_OUTAGE_SECONDS"] = "60" }),
    // Four silo processes against one, eight runs five times as long as in ./vlmrm test (docs/CLUSTER.md).
    ["silos"] = () => GrainsTestBenchmark.Run("ManySilosTests", "many-silos.md", new Dictionary<string, string> { ["VLMRM_SILOS_SCALE"] = "5" }),
};
// Run only when named: minutes of Humanoid rendering (and gigabytes of checkpoint), 20 or 100 silo kills, five silo processes.
string[] onRequest = ["paper", "pipeline-humanoid", "chaos", "soak", "silos"];

var requested = args.Length > 0 ? args : suites.Keys.Except(onRequest).ToArray();
foreach (var name in requested)
{
    if (!suites.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"Unknown benchmark '{name}'. Known: {string.Join(", ", suites.Keys)}.");
        return 2;
    }
    Console.WriteLine($"## {name} ({Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version})");
    Console.WriteLine();
    run();
    Console.WriteLine();
}
return 0;
