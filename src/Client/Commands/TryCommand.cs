using System.CommandLine;
using Spectre.Console;
using VlmRm.Envs;
using VlmRm.Evaluation.Rollouts;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary>
/// <c>vlmrm try</c>: the first run on a fresh machine. Rolls out a random policy in CartPole and
/// MountainCar (plain and textured), writes frames as PNG and an MP4 per environment, and prints
/// the measured steps/s and frames/s; then trains CartPole from the paper's language goal through CLIP reward
/// grains and shows the ground-truth success of each run's result (its checkpoint with the highest training reward,
/// as the paper selects it) and a video of it.
/// </summary>
internal static class TryCommand
{
    private static readonly string[] DefaultEnvs = ["CartPole", "MountainCar", "MountainCarTextured"];

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for frames and videos.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "try")) };
        var envs = new Option<string[]>("--env") { Description = "Environment ids (repeatable).", DefaultValueFactory = _ => DefaultEnvs, AllowMultipleArgumentsPerToken = true };
        var copies = new Option<int>("--num-envs") { Description = "Vectorized copies per environment.", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "Vectorized steps of the recorded rollout.", DefaultValueFactory = _ => 200 };
        var width = new Option<int>("--width") { Description = "Render width.", DefaultValueFactory = _ => 600 };
        var height = new Option<int>("--height") { Description = "Render height.", DefaultValueFactory = _ => 400 };
        var assets = new Option<DirectoryInfo?>("--assets") { Description = "Folder with the paper's reference assets (e.g. ../shared/assets/vlmrm); default: the project's own textures." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var noTraining = new Option<bool>("--no-training") { Description = "Only the rollouts; skip the short training sweep on the embedded cluster." };
        var sweepFile = new Option<FileInfo?>("--sweep") { Description = "The training sweep (default: sweeps/try.yaml, DQN on CartPole from the paper's goal sentence)." };

        var command = new Command("try", "Roll out a random policy in CartPole and MountainCar: PNG frames, an MP4 each, steps/s and frames/s.")
        {
            output, envs, copies, steps, width, height, assets, seed, noTraining, sweepFile,
        };
        Output.AddOptionsTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new EnvOptions
            {
                RenderWidth = parse.GetValue(width),
                RenderHeight = parse.GetValue(height),
                AssetsDirectory = parse.GetValue(assets)?.FullName,
            };
            var say = Output.For(parse);
            var rollouts = Run(parse.GetValue(output)!.FullName, parse.GetValue(envs)!, parse.GetValue(copies), parse.GetValue(steps), options, parse.GetValue(seed), say);
            if (rollouts != 0 || parse.GetValue(noTraining)) return rollouts;
            var sweep = parse.GetValue(sweepFile) ?? new FileInfo(Path.Combine(RepositoryFolder(), "sweeps", "try.yaml"));
            return await UserErrors.ReportAsync(() => TrainFromLanguageAsync(sweep, parse.GetValue(output)!.FullName, say, cancellationToken));
        });
        return command;
    }

    /// <summary>
    /// The mission: DQN on CartPole rewarded only by CLIP's reading of the paper's goal sentence (sweeps/try.yaml, reward
    /// grains on the embedded cluster), then each run's result judged on the ground truth, with an MP4 of it. A run's
    /// result is its checkpoint with the highest training reward (paper appendix C), never chosen by the ground truth.
    /// </summary>
    private static async Task<int> TrainFromLanguageAsync(FileInfo sweepFile, string outputDirectory, Output output, CancellationToken cancellationToken)
    {
        var sweep = SweepSpec.LoadFile(sweepFile.FullName);
        var runs = sweep.Expand(sweepFile.FullName);
        var first = runs[0].Config.Reward;
        output.Message($"Training: DQN on CartPole from the sentence [green]\"{Markup.Escape(string.Join(" / ", first.Goal))}\"[/] " +
                               $"(baseline \"{Markup.Escape(string.Join(" / ", first.Baseline))}\", α = {first.Alpha}), rewarded by [blue]{Markup.Escape(first.Model ?? "")}[/] " +
                               "through CLIP reward grains on the embedded cluster. The agent never sees the environment's reward.");
        var data = Path.Combine("runs", "cluster");
        var status = await SweepCommands.RunAsync(sweepFile, () => ClusterConnection.OpenAsync(null, data, cancellationToken), null, output, cancellationToken);
        if (status != 0 || cancellationToken.IsCancellationRequested) return status;

        var store = new FileCheckpointStore(Path.Combine(data, "checkpoints"));
        var table = new Table().AddColumns("run", "checkpoint", "ground-truth success (10 episodes)", "pole upright", "video");
        var records = new List<object>();
        foreach (var run in runs)
        {
            // The paper's result (highest training reward), then the run's last policy: whether the agent held on to
            // what it learned, which the paper's selection does not show.
            foreach (var (which, latest) in new[] { ("highest training reward", false), ("last", true) })
            {
                var folder = Path.Combine(outputDirectory, "policy", run.RunId, latest ? "last" : "");
                var set = await RolloutRecorder.RecordAsync(run.Config, run.RunId, store, folder,
                    new RolloutOptions { Episodes = 10, FrameStride = 5, FrameWidth = 256, FrameHeight = 256, Task = "pole upright" },
                    latestInsteadOfBest: latest, cancellationToken: cancellationToken);
                var successes = set.Episodes.Count(e => e.GoalAtEnd == true);
                var upright = set.Episodes.Average(e => e.Predicate!.Count(p => p) / (double)e.Predicate!.Count);
                var video = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(folder, set.Episodes[0].Video));
                table.AddRow(Markup.Escape(run.RunId), $"{which}: step {set.CheckpointTimesteps:N0}", $"{successes}/{set.Episodes.Count} ({successes / (double)set.Episodes.Count:P0})",
                    $"{upright:P0} of steps", Markup.Escape(video));
                records.Add(new { Run = run.RunId, Checkpoint = latest ? "last" : "best", CheckpointSteps = set.CheckpointTimesteps, Successes = successes, Episodes = set.Episodes.Count, UprightFraction = upright, Video = video });
            }
        }
        output.Results("policy", table, records);
        output.ResultLine("Success: the pole is upright (Gymnasium's ±12°) at the episode's last step, judged by the environment, which the agent never trained on.");
        return 0;
    }

    private static string RepositoryFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VlmRm.sln"))) return dir.FullName;
        }
        return Environment.CurrentDirectory;
    }

    private static int Run(string outputDirectory, string[] envIds, int copies, int steps, EnvOptions options, int seed, Output output)
    {
        if (copies < 1 || steps < 1)
        {
            AnsiConsole.MarkupLine("[red]--num-envs and --steps must be at least 1.[/]");
            return 2;
        }
        var unknown = envIds.Where(id => !EnvRegistry.Ids.Contains(id, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (unknown.Length > 0)
        {
            AnsiConsole.MarkupLine($"[red]Unknown environment {Markup.Escape(string.Join(", ", unknown))}.[/] Known: {Markup.Escape(string.Join(", ", EnvRegistry.Ids.Order()))}.");
            return 2;
        }

        output.Message($"Random-policy rollouts, {copies} copies each, {steps} steps, frames {options.RenderWidth}×{options.RenderHeight} → [blue]{Markup.Escape(outputDirectory)}[/]");
        var summaries = new List<(RolloutSummary Rollout, double StepsPerSecond)>();
        try
        {
            foreach (var id in envIds)
            {
                output.Progress(id, steps, 0, report =>
                {
                    using var env = EnvRegistry.MakeVector(id, copies, seed, options);
                    var rollout = new RandomRollout(env, (ulong)seed);
                    var stepsPerSecond = rollout.MeasureStepsPerSecond(Math.Max(1, 200_000 / copies));
                    var summary = rollout.Record(steps, Path.Combine(outputDirectory, id), pngEvery: Math.Max(1, steps / 8), framesPerSecond: 30,
                        new SynchronousProgress<int>(done => report(done, "")));
                    summaries.Add((summary, stepsPerSecond));
                });
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 1;
        }

        var table = new Table().AddColumns("env", "steps/s", $"frames/s @{options.RenderWidth}×{options.RenderHeight}", "episodes", "GT success");
        foreach (var (rollout, stepsPerSecond) in summaries)
        {
            table.AddRow(Markup.Escape(rollout.EnvId), $"{stepsPerSecond:N0}", $"{rollout.FramesPerSecond:N0}", $"{rollout.EpisodesFinished}", $"{rollout.SuccessFraction:P0}");
        }
        output.Results("rollout", table, summaries.Select(s => new
        {
            Env = s.Rollout.EnvId, s.StepsPerSecond, s.Rollout.FramesPerSecond, Width = options.RenderWidth, Height = options.RenderHeight,
            Episodes = s.Rollout.EpisodesFinished, Success = s.Rollout.SuccessFraction,
            Video = Path.GetRelativePath(Environment.CurrentDirectory, s.Rollout.VideoPath), PngFrames = s.Rollout.PngPaths.Count,
        }));
        output.ResultLine("steps/s: stepping without rendering; frames/s: rendering alone, one thread. Per core on this machine.");
        foreach (var (rollout, _) in summaries)
        {
            output.ResultLine($"{Markup.Escape(rollout.EnvId)}: [blue]{Markup.Escape(Path.GetRelativePath(Environment.CurrentDirectory, rollout.VideoPath))}[/] and {rollout.PngPaths.Count} PNG frames");
        }
        return 0;
    }
}
