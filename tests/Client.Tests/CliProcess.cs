using System.Diagnostics;
using VlmRm.TestSupport;

namespace VlmRm.Client.Tests;

/// <summary>The VlmRm CLI run as a separate process with its output going to a pipe, as in CI, nohup or a batch job.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, IReadOnlyList<string> Lines, string Errors);

    /// <summary>The CLI of the same build configuration as these tests (src/Client/bin/&lt;Debug|Release&gt;/net10.0).</summary>
    public static string Executable { get; } = FindExecutable();

    /// <summary>The standalone silo of the same build configuration (src/Silo/bin/&lt;Debug|Release&gt;/net10.0).</summary>
    public static string SiloDll { get; } = Path.Combine(Path.GetDirectoryName(Executable)!.Replace($"{Path.DirectorySeparatorChar}Client{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}Silo{Path.DirectorySeparatorChar}", StringComparison.Ordinal), "VlmRm.Silo.dll");

    public static Task<Result> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments) => RunAsync(Executable, workingDirectory, timeout, arguments);

    /// <summary>The standalone silo with <paramref name="settings"/> (configuration on its command line).</summary>
    public static Task<Result> RunSiloAsync(string workingDirectory, TimeSpan timeout, params string[] settings) => RunAsync("dotnet", workingDirectory, timeout, [SiloDll, .. settings]);

    private static async Task<Result> RunAsync(string program, string workingDirectory, TimeSpan timeout, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The models VlmRm ships; nothing is written there.
        start.Environment["VLMRM_MODELS"] = Path.Combine(TestPaths.RepositoryRoot, "models");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} ran past {timeout}. Output so far:\n{await output}");
        }
        var text = await output;
        return new Result(process.ExitCode, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList(), await errors);
    }

    private static string FindExecutable()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        var path = Path.Combine(TestPaths.RepositoryRoot, "src", "Client", "bin", configuration, "net10.0", OperatingSystem.IsWindows() ? "VlmRm.Client.exe" : "VlmRm.Client");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The CLI is not built: {path} (dotnet build VlmRm.sln -c {configuration}).", path);
    }
}
