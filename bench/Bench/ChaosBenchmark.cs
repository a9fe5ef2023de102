using System.Diagnostics;
using VlmRm.TestSupport;

namespace VlmRm.Bench;

/// <summary>
/// The chaos run at the reliability issue's size: tests/Grains.Tests' ChaosTests (three silo processes, a persistent
/// redis-server, Azurite, a sweep of ground-truth and CLIP runs) with 20 silo kills and a 60 s storage outage,
/// its figures printed from the report the test writes. The same code runs small in ./vlmrm test.
/// </summary>
internal static class ChaosBenchmark
{
    public static void Run()
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = TestPaths.RepositoryRoot, UseShellExecute = false };
        foreach (var argument in new[] { "test", "--project", "tests/Grains.Tests", "-c", "Release", "--", "--filter-class", "VlmRm.Grains.Tests.ChaosTests" }) start.ArgumentList.Add(argument);
        start.Environment["VLMRM_CHAOS_KILLS"] = Environment.GetEnvironmentVariable("VLMRM_CHAOS_KILLS") ?? "20";
        start.Environment["VLMRM_CHAOS_OUTAGE_SECONDS"] = Environment.GetEnvironmentVariable("VLMRM_CHAOS_OUTAGE_SECONDS") ?? "60";
        using var test = Process.Start(start) ?? throw new InvalidOperationException("dotnet test did not start");
        test.WaitForExit();
        var report = Path.Combine(TestPaths.ArtifactsDirectory("grains"), "chaos.md");
        Console.WriteLine(File.Exists(report) ? File.ReadAllText(report) : "(no report: the chaos test did not get to its end)");
        if (test.ExitCode != 0) throw new InvalidOperationException($"the chaos test failed (exit {test.ExitCode}); its output is above");
    }
}
