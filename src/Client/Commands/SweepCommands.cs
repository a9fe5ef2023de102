using System.CommandLine;
using Spectre.Console;
using VlmRm.Abstractions;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary>
/// <c>vlmrm run sweep.yaml</c>, <c>status NAME</c>, <c>cancel NAME RUN</c>, <c>runs</c>, <c>logs RUN</c>: sweeps on the cluster.
/// </summary>
internal static class SweepCommands
{
    internal static readonly Option<string?> Cluster = new("--cluster") { Description = "Redis connection string of a running cluster (default: an embedded silo in this process)." };
    internal static readonly Option<DirectoryInfo> Data = new("--data") { Description = "Embedded cluster's grain state and checkpoints.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "cluster")) };

    /// <summary>Runs <paramref name="body"/> against the cluster the command's --cluster/--data name, reporting errors as every verb does.</summary>
    internal static Task<int> OnCluster(ParseResult parse, Func<IClusterClient, Task<int>> body, CancellationToken ct) => UserErrors.ReportAsync(async () =>
    {
        await using var cluster = await ClusterConnection.OpenAsync(parse.GetValue(Cluster), parse.GetValue(Data)!.FullName, ct);
        return await body(cluster.Client);
    });

    public static IEnumerable<Command> Create()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "Sweep file (YAML): tasks × seeds × models × alphas." };
        var run = new Command("run", "Run a sweep on the cluster and watch it (Ctrl+C detaches; runs resume where they stopped).") { file, Cluster, Data };
        run.SetAction((parse, ct) => UserErrors.ReportAsync(() => RunAsync(parse.GetValue(file)!, parse.GetValue(Cluster), parse.GetValue(Data)!.FullName, ct)));

        var name = new Argument<string>("name") { Description = "Sweep name." };
        var status = new Command("status", "Show a sweep's runs.") { name, Cluster, Data };
        status.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            AnsiConsole.Write(Table(await client.GetGrain<ISweepGrain>(parse.GetValue(name)!).GetStatusAsync()));
            return 0;
        }, ct));

        var runId = new Argument<string>("run") { Description = "Run id (see status)." };
        var cancel = new Command("cancel", "Cancel one run of a sweep.") { name, runId, Cluster, Data };
        cancel.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            await client.GetGrain<ISweepGrain>(parse.GetValue(name)!).CancelRunAsync(parse.GetValue(runId)!);
            AnsiConsole.MarkupLine($"Cancelled {Markup.Escape(parse.GetValue(runId)!)}.");
            return 0;
        }, ct));

        var runs = new Command("runs", "List every run of every sweep on the cluster.") { Cluster, Data };
        runs.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            var sweeps = await client.GetGrain<ISweepIndexGrain>(ISweepIndexGrain.Key).GetSweepsAsync();
            if (sweeps.Count == 0) AnsiConsole.MarkupLine("No sweeps yet: [blue]vlmrm run sweeps/cartpole-ground-truth.yaml[/] starts one.");
            foreach (var sweep in sweeps) AnsiConsole.Write(Table(await client.GetGrain<ISweepGrain>(sweep).GetStatusAsync()));
            return 0;
        }, ct));

        var logs = new Command("logs", "Show a run's events: where it ran, resumes, progress, checkpoint failures, its end.") { runId, Cluster, Data };
        logs.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            var lines = await client.GetGrain<ILearnerGrain>(parse.GetValue(runId)!).GetLogAsync();
            if (lines.Count == 0) throw new KeyNotFoundException($"Run '{parse.GetValue(runId)}' has no log on this cluster (see vlmrm runs).");
            foreach (var line in lines) Console.WriteLine(line);
            return 0;
        }, ct));
        return [run, status, cancel, runs, logs];
    }

    /// <summary>Submits a sweep and shows live progress until every run has finished.</summary>
    public static async Task<int> RunAsync(FileInfo file, string? redis, string data, CancellationToken cancellationToken)
    {
        var spec = SweepSpec.LoadFile(file.FullName);
        var runs = spec.Expand(file.FullName).Select(r => new RunRequest(r.RunId, RunConfigLoader.ToJson(r.Config), spec.Name)).ToList();
        await using var cluster = await ClusterConnection.OpenAsync(redis, data, cancellationToken);
        AnsiConsole.MarkupLine($"Sweep [blue]{Markup.Escape(spec.Name)}[/]: {runs.Count} runs, {spec.MaxConcurrent} at a time, on {(cluster.Embedded ? "the embedded cluster" : Markup.Escape(redis!))}.");
        var sweep = cluster.Client.GetGrain<ISweepGrain>(spec.Name);
        var status = await sweep.SubmitAsync(runs, spec.MaxConcurrent);
        await AnsiConsole.Live(Table(status)).StartAsync(async live =>
        {
            while (!status.IsFinished && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(500, CancellationToken.None);
                status = await sweep.GetStatusAsync();
                live.UpdateTarget(Table(status));
            }
        });
        return status.Runs.Any(r => r.State == RunState.Failed) ? 1 : 0;
    }

    private static Table Table(SweepStatus status)
    {
        var table = new Table().Title($"{status.Name}").AddColumns("run", "state", "steps", "progress", "steps/s", "GT return", "success", "ETA", "resumes");
        foreach (var r in status.Runs)
        {
            var fraction = r.TotalTimesteps > 0 ? r.Timesteps / (double)r.TotalTimesteps : 0;
            var eta = r.State == RunState.Running && r.StepsPerSecond > 0 ? TimeSpan.FromSeconds((r.TotalTimesteps - r.Timesteps) / r.StepsPerSecond).ToString(@"hh\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture) : "";
            var state = r.State switch
            {
                RunState.Done => "[green]done[/]",
                RunState.Failed => $"[red]failed: {Markup.Escape(r.Error ?? "")}[/]",
                RunState.Running => "[blue]running[/]",
                _ => r.State.ToString().ToLowerInvariant(),
            };
            table.AddRow(Markup.Escape(r.RunId), state, $"{r.Timesteps:N0}", Bar(fraction), $"{r.StepsPerSecond:N0}", Show(r.MeanGroundTruthReturn), Show(r.SuccessRate * 100) + "%", eta, $"{r.Resumes}");
        }
        return table;
    }

    private static string Bar(double fraction)
    {
        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 20);
        return $"[green]{new string('█', filled)}[/][grey]{new string('░', 20 - filled)}[/] {fraction:P0}";
    }

    /// <summary>One decimal, or "-" before there is a value (no episode finished yet).</summary>
    internal static string Show(double value) => double.IsFinite(value) ? value.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "-";
}
