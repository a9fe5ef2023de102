using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using VlmRm.TestSupport;

namespace VlmRm.Client.Tests;

/// <summary>
/// <c>vlmrm train</c> stopped by SIGTERM (a batch scheduler's pre-emption, <c>kill</c>, a closed terminal) stops at a
/// step, stores a checkpoint of that step, says so and exits with 130; the same command resumes from that step.
/// (src/Client/GracefulTermination.cs: the exit code is the command's, never the signal's 143.)
/// (It used to exit with 1 and nothing said, its progress since the last scheduled checkpoint lost.)
/// </summary>
public sealed partial class InterruptTests
{
    [Fact]
    public async Task Train_stopped_by_sigterm_checkpoints_its_step_and_the_same_command_resumes_it()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGTERM is a POSIX signal");
        var ct = TestContext.Current.CancellationToken;
        var folder = Directory.CreateTempSubdirectory("vlmrm-interrupt-").FullName;
        string[] command = ["train", "cartpole-dqn-quick", "--steps", "100000", "--runs", Path.Combine(folder, "runs"), "--run-id", "interrupted"];

        var (exitCode, lines) = await RunUntilTerminatedAsync(folder, command, ProgressLine(), ct);
        var log = string.Join('\n', lines);
        Assert.True(exitCode == 130, $"exit {exitCode}:\n{log}");
        Assert.Contains("SIGTERM: stopping cleanly; send it again to end the process now.", log, StringComparison.Ordinal);
        var interrupted = Interrupted().Match(log);
        Assert.True(interrupted.Success, $"no line says where the run stopped:\n{log}");
        var step = long.Parse(interrupted.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        Assert.True(step is > 0 and < 100_000, $"stopped at {step}");
        Assert.True(File.Exists(Path.Combine(folder, "runs", "checkpoints", "interrupted", $"step-{step:D12}.ckpt")), $"no checkpoint of step {step}:\n{log}");

        (_, lines) = await RunUntilTerminatedAsync(folder, command, Resumed(), ct);
        var resumed = lines.Select(l => Resumed().Match(l)).First(m => m.Success);
        Assert.Equal(interrupted.Groups[1].Value, resumed.Groups[1].Value);
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>Runs the CLI until a line matches <paramref name="signalAfter"/>, then sends it SIGTERM and waits for it to exit.</summary>
    private static async Task<(int ExitCode, IReadOnlyList<string> Lines)> RunUntilTerminatedAsync(string folder, string[] arguments, Regex signalAfter, CancellationToken ct)
    {
        var start = new ProcessStartInfo(CliProcess.Executable) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["VLMRM_MODELS"] = Path.Combine(TestPaths.RepositoryRoot, "models");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the CLI did not start");
        var lines = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!lines.Any(signalAfter.IsMatch))
            {
                if (process.HasExited || DateTime.UtcNow > deadline) throw new TimeoutException($"no line matching {signalAfter} (exited: {process.HasExited}):\n{string.Join('\n', lines)}");
                await Task.Delay(100, ct);
            }
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) await kill!.WaitForExitAsync(ct);
            using var exit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            exit.CancelAfter(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(exit.Token);
            process.WaitForExit(); // the last output lines
            return (process.ExitCode, [.. lines]);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [GeneratedRegex(@"interrupted: [\d,]+/100,000")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"Interrupted at step ([\d,]+); its checkpoint is stored in")]
    private static partial Regex Interrupted();

    [GeneratedRegex(@"Resumed interrupted at step ([\d,]+)\.")]
    private static partial Regex Resumed();
}
