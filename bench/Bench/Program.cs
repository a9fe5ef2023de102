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
    ["chaos"] = ChaosBenchmark.Run,
    ["pipeline"] = PipelineBenchmark.Run,
};
// Run only when named: minutes of Humanoid rendering and gigabytes of checkpoint, or 20 silo kills (docs/BENCHMARKS.md, docs/RELIABILITY.md).
string[] onRequest = ["paper", "chaos"];

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
