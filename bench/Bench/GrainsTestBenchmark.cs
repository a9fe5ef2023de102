using System.Diagnostics;
using VlmRm.TestSupport;

namespace VlmRm.Bench;

/// <summary>
/// A benchmark that is one of tests/Grains.Tests' multi-process tests run at a larger size: the test is the same code
/// that runs small in ./vlmrm test, sized through environment variables, and its report is printed here.
/// </summary>
internal static class GrainsTestBenchmark
{
    /// <param name="testClass">The test class (in VlmRm.Grains.Tests).</param>
    /// <param name="report">The file the test writes under artifacts/test-output/grains.</param>
    /// <param name="sizes">Environment variables and their defaults; a value already set in the environment wins.</param>
    public static void Run(string testClass, string report, IReadOnlyDictionary<string, string> sizes)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = TestPaths.RepositoryRoot, UseShellExecute = false };
        foreach (var argument in new[] { "test", "--project", "tests/Grains.Tests", "-c", "Release", "--", "--filter-class", $"VlmRm.Grains.Tests.{testClass}" }) start.ArgumentList.Add(argument);
        foreach (var (name, size) in sizes) start.Environment[name] = Environment.GetEnvironmentVariable(name) ?? size;
        var path = Path.Combine(TestPaths.ArtifactsDirectory("grains"), report);
        File.Delete(path);
        using var test = Process.Start(start) ?? throw new InvalidOperationException("dotnet test did not start");
        test.WaitForExit();
        Console.WriteLine(File.Exists(path) ? File.ReadAllText(path) : $"(no report: {testClass} did not get to its end)");
        if (test.ExitCode != 0) throw new InvalidOperationException($"{testClass} failed (exit {test.ExitCode}); its output is above");
    }
}
