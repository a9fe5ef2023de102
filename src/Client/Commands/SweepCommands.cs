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
    internal static readonly Option<string?> Gateway = new("--gateway") { Description = "host:port of a standalone silo's gateway (Silo:GatewayPort, 30000 by default): a cluster on one machine without Redis." };
    internal static readonly Option<int> DashboardPort = new("--dashboard-port") { Description = "Loopback port of the embedded silo's dashboard and runs page (default: a free one, printed at the start).", DefaultValueFactory = _ => 0 };
    internal static readonly Option<DirectoryInfo> Data = new("--data") { Description = "Embedded cluster's grain state and checkpoints.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "cluster")) };

    /// <summary>Runs <paramref name="body"/> against the cluster the command's --cluster/--data name, reporting errors as every verb does.</summary>
    internal static Task<int> OnCluster(ParseResult parse, Func<IClusterClient, Task<int>> body, CancellationToken ct) => UserErrors.ReportAsync(async () =>
    {
        await using var cluster = await ClusterConnection.OpenAsync(parse.GetValue(Cluster), parse.GetValue(Data)!.FullName, ct, parse.GetValue(Gateway));
        return await body(cluster.Client);
    });

    public static IEnumerable<Command> Create()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "Sweep file (YAML): tasks × seeds × models × alphas." };
        var run = new Command("run", "Run a sweep on the cluster and watch it (Ctrl+C detaches; runs resume where they stopped).") { file, Cluster, Gateway, DashboardPort, Data };
        Output.AddOptionsTo(run);
        run.SetAction((parse, ct) => UserErrors.ReportAsync(() =>
        {
            ClusterConnection.Gateway(parse.GetValue(Cluster), parse.GetValue(Gateway));
            var remote = parse.GetValue(Cluster) is { } redis ? ClusterConnection.WithoutPassword(redis) : parse.GetValue(Gateway) is { } gateway ? $"the silo at {gateway}" : null;
            return RunAsync(parse.GetValue(file)!, () => ClusterConnection.OpenAsync(parse.GetValue(Cluster), parse.GetValue(Data)!.FullName, ct, parse.GetValue(Gateway), parse.GetValue(DashboardPort)),
                remote, Output.For(parse), ct);
        }));

        var name = new Argument<string>("name") { Description = "Sweep name." };
        var status = new Command("status", "Show a sweep's runs.") { name, Cluster, Gateway, Data };
        status.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            AnsiConsole.Write(Table(await client.GetGrain<ISweepGrain>(parse.GetValue(name)!).GetStatusAsync()));
            return 0;
        }, ct));

        var runId = new Argument<string>("run") { Description = "Run id (see status)." };
        var cancel = new Command("cancel", "Cancel one run of a sweep.") { name, runId, Cluster, Gateway, Data };
        cancel.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            await client.GetGrain<ISweepGrain>(parse.GetValue(name)!).CancelRunAsync(parse.GetValue(runId)!);
            AnsiConsole.MarkupLine($"Cancelled {Markup.Escape(parse.GetValue(runId)!)}.");
            return 0;
        }, ct));

        var runs = new Command("runs", "List every run of every sweep on the cluster.") { Cluster, Gateway, Data };
        runs.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            var sweeps = await client.GetGrain<ISweepIndexGrain>(ISweepIndexGrain.Key).GetSweepsAsync();
            if (sweeps.Count == 0) AnsiConsole.MarkupLine("No sweeps yet: [blue]vlmrm run sweeps/cartpole-ground-truth.yaml[/] starts one.");
            foreach (var sweep in sweeps) AnsiConsole.Write(Table(await client.GetGrain<ISweepGrain>(sweep).GetStatusAsync()));
            return 0;
        }, ct));

        var logs = new Command("logs", "Show a run's events: where it ran, resumes, progress, checkpoint failures, its end.") { runId, Cluster, Gateway, Data };
        logs.SetAction((parse, ct) => OnCluster(parse, async client =>
        {
            var lines = await client.GetGrain<ILearnerGrain>(parse.GetValue(runId)!).GetLogAsync();
            if (lines.Count == 0) throw new KeyNotFoundException($"Run '{parse.GetValue(runId)}' has no log on this cluster (see vlmrm runs).");
            foreach (var line in lines) Console.WriteLine(line);
            return 0;
        }, ct));
        return [run, status, cancel, runs, logs];
    }

    /// <summary>Submits a sweep and shows its progress until every run has finished.</summary>
    /// <param name="open">Connects to the cluster, once the sweep file has been read: a bad file leaves no embedded cluster's folder behind.</param>
    /// <param name="remote">The cluster as the user named it (--cluster without its password, or --gateway); null for the embedded one.</param>
    public static async Task<int> RunAsync(FileInfo file, Func<Task<ClusterConnection>> open, string? remote, Output output, CancellationToken cancellationToken)
    {
        var spec = SweepSpec.LoadFile(file.FullName);
        var runs = spec.Expand(file.FullName).Select(r => new RunRequest(r.RunId, RunConfigLoader.ToJson(r.Config), spec.Name)).ToList();
        await using var cluster = await open();
        var where = cluster.Embedded ? "the embedded cluster" : Markup.Escape(remote ?? "the cluster");
        output.Message($"Sweep [blue]{Markup.Escape(spec.Name)}[/]: {runs.Count} runs, {spec.MaxConcurrent} at a time, on {where}.");
        if (cluster.Dashboard is { } dashboard) output.Message($"Dashboard: [link]{dashboard}/dashboard/[/] · runs: [link]{dashboard}/vlmrm[/]");
        var sweep = cluster.Client.GetGrain<ISweepGrain>(spec.Name);
        var status = await sweep.SubmitAsync(runs, spec.MaxConcurrent);
        async Task Poll()
        {
            await Task.Delay(500, CancellationToken.None);
            status = await sweep.GetStatusAsync();
        }
        if (output.Style == OutputStyle.Live)
        {
            await AnsiConsole.Live(Table(status)).StartAsync(async live =>
            {
                while (!status.IsFinished && !cancellationToken.IsCancellationRequested)
                {
                    await Poll();
                    live.UpdateTarget(Table(status));
                }
            });
        }
        else
        {
            var watch = new SweepLines(status, output);
            while (!status.IsFinished && !cancellationToken.IsCancellationRequested)
            {
                await Poll();
                watch.Update(status);
            }
            output.Results("run", Table(status), status.Runs.Select(r => Record(status.Name, r)));
        }
        return status.Runs.Any(r => r.State == RunState.Failed) ? 1 : 0;
    }

    /// <summary>A run's status as a JSON record.</summary>
    private static object Record(string sweep, RunStatus r) => new
    {
        Sweep = sweep, Run = r.RunId, State = r.State.ToString().ToLowerInvariant(), Steps = r.Timesteps, TotalSteps = r.TotalTimesteps,
        StepsPerSecond = Output.Finite(r.StepsPerSecond), GroundTruthReturn = Output.Finite(r.MeanGroundTruthReturn), SuccessRate = Output.Finite(r.SuccessRate),
        r.Resumes, r.Error,
    };

    /// <summary>
    /// A sweep's progress as lines: one per run when its state changes, and while it runs when it crosses a tenth of its
    /// steps or every 30 s (<see cref="LineThrottle"/>); with --json the same moments as "run_progress" events.
    /// </summary>
    private sealed class SweepLines
    {
        private readonly Output _output;
        private readonly Dictionary<string, (RunState State, long Total, LineThrottle Throttle)> _runs = [];

        public SweepLines(SweepStatus status, Output output)
        {
            _output = output;
            Update(status);
        }

        public void Update(SweepStatus status)
        {
            foreach (var r in status.Runs)
            {
                var changed = !_runs.TryGetValue(r.RunId, out var seen) || seen.State != r.State;
                // A run reports its total once it has started: the tenths are counted from then.
                if (changed || seen.Total != r.TotalTimesteps) _runs[r.RunId] = seen = (r.State, r.TotalTimesteps, new LineThrottle(r.TotalTimesteps, r.Timesteps));
                if (!changed && !(r.State == RunState.Running && seen.Throttle.Due(r.Timesteps))) continue;
                var fraction = r.TotalTimesteps > 0 ? r.Timesteps / (double)r.TotalTimesteps : 0;
                var line = r.State switch
                {
                    RunState.Queued => "queued",
                    RunState.Running when r.TotalTimesteps == 0 => "starting",
                    RunState.Failed => $"failed: {Markup.Escape(r.Error ?? "")}",
                    _ => $"{r.State.ToString().ToLowerInvariant()}, {r.Timesteps:N0}/{r.TotalTimesteps:N0} steps ({100 * fraction:F0}%), {r.StepsPerSecond:N0} steps/s, " +
                         $"GT return {Show(r.MeanGroundTruthReturn)}, success {Percent(r.SuccessRate)}",
                };
                _output.ProgressEvent("run_progress", Record(status.Name, r), $"{Markup.Escape(r.RunId)}: {line}");
            }
        }
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
            table.AddRow(Markup.Escape(r.RunId), state, $"{r.Timesteps:N0}", Bar(fraction), $"{r.StepsPerSecond:N0}", Show(r.MeanGroundTruthReturn), Percent(r.SuccessRate), eta, $"{r.Resumes}");
        }
        return table;
    }

    private static string Bar(double fraction)
    {
        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 20);
        return $"[green]{new string('█', filled)}[/][grey]{new string('░', 20 - filled)}[/] {fraction:P0}";
    }

    /// <summary>A fraction as a percentage with one decimal, or "-" before there is a value.</summary>
    internal static string Percent(double fraction) => double.IsFinite(fraction) ? Show(fraction * 100) + "%" : "-";

    /// <summary>One decimal, or "-" before there is a value (no episode finished yet).</summary>
    internal static string Show(double value) => double.IsFinite(value) ? value.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "-";
}
