using System.Text.Json;
using VlmRm.TestSupport;

namespace VlmRm.Client.Tests;

/// <summary>
/// What the long-running verbs print when their output is not a terminal: progress as plain lines, each once (not a
/// live table re-drawn on every refresh), --quiet with results only, and --json with one object per line.
/// </summary>
public class OutputTests
{
    private static string WorkingDirectory(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"vlmrm-cli-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>
    /// The whole of `try` (rollouts, then DQN from the paper's goal sentence through CLIP reward grains on the embedded
    /// cluster, then the policy's ground-truth success and video), cut to a short sweep. It printed 4,705 lines before.
    /// </summary>
    [Fact]
    public async Task Try_writes_a_short_readable_log_when_its_output_is_not_a_terminal()
    {
        var folder = WorkingDirectory("try");
        var sweep = Path.Combine(folder, "try-short.yaml");
        File.WriteAllText(sweep, """
            name: try-short
            tasks:
              - name: cartpole
                preset: cartpole-dqn-clip-quick
            seeds: [0]
            total_timesteps: 3000
            checkpoint_interval: 1000
            """);
        var result = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(8), "try", "--steps", "60", "--num-envs", "2", "--sweep", sweep);
        var log = string.Join('\n', result.Lines);
        File.WriteAllText(Path.Combine(TestPaths.ArtifactsDirectory("client"), "try-log.txt"), log);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{log}\n{result.Errors}");
        Assert.True(result.Lines.Count < 100, $"{result.Lines.Count} lines:\n{log}");
        var progress = result.Lines.Where(l => l.Contains("%)", StringComparison.Ordinal)).ToList();
        Assert.Equal(progress.Count, progress.Distinct().Count()); // each progress line once, never re-drawn
        Assert.Contains(result.Lines, l => l.StartsWith("try-short.cartpole.", StringComparison.Ordinal) && l.Contains("done", StringComparison.Ordinal));
        Assert.Contains("ground-truth success", log);
        Assert.Contains(".mp4", log);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task Quiet_prints_the_results_and_no_progress()
    {
        var folder = WorkingDirectory("quiet");
        var result = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(3), "try", "--no-training", "--quiet", "--env", "CartPole", "--steps", "30", "--num-envs", "1");
        var log = string.Join('\n', result.Lines);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{log}\n{result.Errors}");
        Assert.DoesNotContain("Random-policy rollouts", log);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("CartPole: ", StringComparison.Ordinal) && l.Contains('%'));
        Assert.Contains("frames/s", log);
        Assert.Contains(".mp4", log);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task Json_prints_one_object_per_line_with_its_event()
    {
        var folder = WorkingDirectory("json");
        var result = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(3), "train", "cartpole-dqn-quick", "--steps", "3000", "--json", "--runs", Path.Combine(folder, "runs"));
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{string.Join('\n', result.Lines)}\n{result.Errors}");
        var events = result.Lines.Select(line =>
        {
            using var json = JsonDocument.Parse(line); // throws, naming the line, if it is not one JSON object
            return json.RootElement.GetProperty("event").GetString();
        }).ToList();
        Assert.Contains("message", events);
        Assert.Contains("progress", events);
        Assert.Contains("evaluation", events);
        Assert.Equal("run", events[^1]);
        // Each progress report once (train used to print every progress line twice).
        var progress = result.Lines.Where(l => l.Contains("\"event\":\"progress\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(progress.Count, progress.Distinct().Count());
        var evaluation = JsonDocument.Parse(result.Lines.First(l => l.Contains("\"evaluation\"", StringComparison.Ordinal))).RootElement;
        Assert.InRange(evaluation.GetProperty("success_rate").GetDouble(), 0, 1);
        Directory.Delete(folder, recursive: true);
    }
}
