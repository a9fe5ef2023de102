using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VlmRm.Abstractions;
using VlmRm.Evaluation.Reports;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary><c>vlmrm report sweeps/x.yaml</c>: a sweep's results as an HTML page that opens from disk.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "The sweep file the runs were started from (YAML)." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for the report (default: reports/<sweep name>)." };
        var episodes = new Option<int>("--episodes") { Description = "Ground-truth episodes of each run's selected checkpoint.", DefaultValueFactory = _ => 3 };
        var states = new Option<int>("--states") { Description = "Uniformly drawn states per task for the EPIC figures.", DefaultValueFactory = _ => 400 };
        var clip = new ClipOptions();
        var command = new Command("report", "A sweep's results as one HTML page (runs, learning curves, EPIC figures, videos of the selected checkpoints) that opens from disk.")
        {
            file, output, episodes, states, SweepCommands.Cluster, SweepCommands.Data,
        };
        clip.AddTo(command, withModel: false);
        command.SetAction((parse, ct) => SweepCommands.OnCluster(parse, async client =>
        {
            var path = parse.GetValue(file)!.FullName;
            var spec = SweepSpec.LoadFile(path);
            var runs = spec.Expand(path);
            var status = await client.GetGrain<ISweepGrain>(spec.Name).GetStatusAsync();
            if (status.Runs.Count == 0) throw new KeyNotFoundException($"Sweep '{spec.Name}' has no runs on this cluster: start it with ./vlmrm run {parse.GetValue(file)!.Name}.");
            var data = parse.GetValue(SweepCommands.Data)!.FullName;
            var options = new SweepReportOptions
            {
                OutputDirectory = parse.GetValue(output)?.FullName ?? Path.Combine("reports", spec.Name),
                Checkpoints = new FileCheckpointStore(Path.Combine(data, "checkpoints")),
                TensorBoardDirectory = Path.Combine(data, "tensorboard"),
                Clip = clip.Options(parse),
                Episodes = parse.GetValue(episodes),
                EpicStates = parse.GetValue(states),
                Command = "./vlmrm report " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)),
            };
            var runStates = new Dictionary<string, ReportRunState>();
            foreach (var r in status.Runs)
            {
                var events = await client.GetGrain<ILearnerGrain>(r.RunId).GetLogAsync();
                runStates[r.RunId] = new ReportRunState(r.State.ToString().ToLowerInvariant(), r.Timesteps, r.TotalTimesteps,
                    r.StepsPerSecond, r.MeanGroundTruthReturn, r.SuccessRate, r.Resumes, r.Error, EventSpan(events)?.TotalSeconds);
            }
            var console = Output.ForConsole();
            var index = await SweepReport.WriteAsync(spec.Name, runs, runStates, options, new SynchronousProgress<string>(step => console.Message($"Report: {Markup.Escape(step)}…")), ct);
            AnsiConsole.MarkupLine($"Report of [blue]{Markup.Escape(spec.Name)}[/]: [blue]{Markup.Escape(index)}[/] (open it in a browser; no server needed)");
            return 0;
        }, ct));
        return command;
    }

    /// <summary>From a run's first event to its last (each line starts with its UTC time); null with fewer than two.</summary>
    private static TimeSpan? EventSpan(IReadOnlyList<string> events)
    {
        var times = events.Select(line => DateTime.TryParseExact(line.Split(' ', 3) is [var day, var time, ..] ? $"{day} {time}" : "", "yyyy-MM-dd HH:mm:ss'Z'",
                CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTime?)null)
            .OfType<DateTime>().ToList();
        return times.Count < 2 ? null : times.Max() - times.Min();
    }
}
