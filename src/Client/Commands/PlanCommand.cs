using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using VlmRm.Rl.Planning;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary><c>vlmrm plan sweeps/x.yaml [--node type]</c>: what a sweep will cost before it is launched.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "Sweep file (YAML), as for vlmrm run." };
        var node = new Option<string?>("--node") { Description = $"Node type the image tower runs on: {string.Join(", ", GpuFigures.Nodes.Select(n => n.Id))} (default: this machine's CPU)." };
        var price = new Option<double?>("--price") { Description = "USD per node-hour, instead of the node type's list price." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the plan as JSON here (default: reports/<sweep>/plan.json, which vlmrm report shows next to the measured runs)." };
        var clip = new ClipOptions();
        var command = new Command("plan", "What a sweep will cost before it runs: steps, frames, image-tower GFLOPs, updates, memory, checkpoint bytes, wall-clock, GPU-hours and cost.")
        {
            file, node, price, json,
        };
        clip.AddTo(command, withModel: false);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var nodeType = parse.GetValue(node) is { } id ? GpuFigures.Node(id) : null;
            if (parse.GetValue(price) is { } p && !(p >= 0 && double.IsFinite(p))) throw new ArgumentException($"--price must be a non-negative number of USD per node-hour, not {p}.");
            var path = parse.GetValue(file)!.FullName;
            var spec = SweepSpec.LoadFile(path);
            var planner = new SweepPlanner(clip.Options(parse), nodeType, parse.GetValue(price));
            var runs = new List<PlannedRun>();
            AnsiConsole.Status().Start("Measuring this machine's rates for each run shape…", _ =>
            {
                foreach (var run in spec.Expand(path)) runs.Add(planner.Plan(run));
            });
            Write(spec, runs, nodeType, parse.GetValue(price));
            var output = parse.GetValue(json)?.FullName ?? Path.Combine("reports", spec.Name, SweepPlanFile.Name);
            SweepPlanFile.Write(output, spec.Name, nodeType?.Id, runs);
            AnsiConsole.MarkupLine($"Plan written to [blue]{Markup.Escape(output)}[/].");
            return 0;
        }));
        return command;
    }

    private static void Write(SweepSpec spec, List<PlannedRun> runs, NodeType? node, double? price)
    {
        AnsiConsole.MarkupLine($"Sweep [blue]{Markup.Escape(spec.Name)}[/]: {runs.Count} runs, {spec.MaxConcurrent} at a time; image tower on " +
                               (node is null ? "this machine's CPU" : $"{Markup.Escape(node.Id)} ({node.Gpus}× {Markup.Escape(node.Gpu ?? "CPU")})") +
                               "; environments and learners at this machine's measured rates.");
        var work = new Table().Title("Work and memory").AddColumns("run", "env steps", "frames labelled", "image tower", "updates", "replay", "frames (B)", "embeddings (fp16)",
            "checkpoints", "largest", "kept", "embedding log");
        foreach (var column in work.Columns.Skip(1)) column.RightAligned();
        foreach (var (run, _, _, cost) in runs)
        {
            work.AddRow(Markup.Escape(run.RunId), Count(cost.EnvSteps), Count(cost.Frames), Flops(cost.ImageTowerGflop), Count(cost.LearnerUpdates), Bytes(cost.ReplayBytes),
                Bytes(cost.FrameBufferBytes), Bytes(cost.EmbeddingBytes), Count(cost.CheckpointsWritten), Bytes(cost.LargestCheckpointBytes), Bytes(cost.CheckpointBytesKept), Bytes(cost.EmbeddingLogBytes));
        }
        var all = runs.Select(r => r.Cost).ToList();
        work.AddRow("[bold]total[/]", Count(all.Sum(c => c.EnvSteps)), Count(all.Sum(c => c.Frames)), Flops(SumOrNull(all.Select(c => c.ImageTowerGflop))), Count(all.Sum(c => c.LearnerUpdates)),
            "", "", "", Count(all.Sum(c => c.CheckpointsWritten)), "", Bytes(all.Sum(c => c.CheckpointBytesKept)), Bytes((long?)SumKnown(all.Select(c => (double?)c.EmbeddingLogBytes))));
        AnsiConsole.Write(work);

        var time = new Table().Title("Time and cost").AddColumns("run", "steps/s", "updates/s", "images/s", "environment", "learner", "labelling", "wall-clock", "GPU-hours", "cost (USD)");
        foreach (var column in time.Columns.Skip(1)) column.RightAligned();
        foreach (var (run, _, rates, cost) in runs)
        {
            time.AddRow(Markup.Escape(run.RunId), Count((long)(rates.VectorStepsPerSecond * run.Config.NumEnvs)), Count((long)rates.GradientStepsPerSecond),
                rates.ImagesPerSecond is { } images ? Count((long)images) : cost.Frames == 0 ? "" : "?", Duration(cost.EnvironmentSeconds), Duration(cost.LearnerSeconds),
                Duration(cost.LabellingSeconds), Duration(cost.WallSeconds), Hours(cost.GpuHours), Money(cost.GpuCost));
        }
        var wall = SumOrNull(all.Select(c => c.WallSeconds));
        time.AddRow("[bold]total[/]", "", "", "", "", "", "", wall is { } w ? $"{Duration(w)} (÷ {spec.MaxConcurrent} at a time: {Duration(w / spec.MaxConcurrent)})" : "?",
            Hours(SumKnown(all.Select(c => c.GpuHours))), Money(SumKnown(all.Select(c => c.GpuCost))));
        AnsiConsole.Write(time);

        AnsiConsole.MarkupLine("Sources of the rates:");
        foreach (var source in runs.Select(r => r.Rates.ImagesSource).Distinct()) AnsiConsole.MarkupLine($"  image tower: {Markup.Escape(source)}");
        if (node is not null) AnsiConsole.MarkupLine($"  {Markup.Escape(node.Id)}: {Markup.Escape(node.Source)}");
        AnsiConsole.MarkupLine("  environment steps (with their rendering) and learner updates: measured now on this machine, per run shape, for about a second each");
        if (node?.Gpu is not null && price is null && node.PricePerHour is null) AnsiConsole.MarkupLine($"  [yellow]no list price for {Markup.Escape(node.Id)}: pass --price USD-per-hour for the cost[/]");
        AnsiConsole.MarkupLine("Wall-clock adds the parts (synchronous labelling) or takes the larger of labelling and the rest (overlapped); " +
                               "a sweep's runs share the machine, so runs at a time divide it only when it has the cores.");
    }

    private static double? SumOrNull(IEnumerable<double?> values)
    {
        double sum = 0;
        foreach (var value in values)
        {
            if (value is not { } v) return null;
            sum += v;
        }
        return sum;
    }

    /// <summary>The sum of the values that are known (a ground-truth run has no GPU-hours); null when none is.</summary>
    private static double? SumKnown(IEnumerable<double?> values)
    {
        var known = values.OfType<double>().ToList();
        return known.Count == 0 ? null : known.Sum();
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Flops(double? gflop) => gflop switch
    {
        null => "?",
        0 => "0",
        >= 1e6 => $"{gflop / 1e6:N1} PFLOP",
        >= 1e3 => $"{gflop / 1e3:N1} TFLOP",
        _ => $"{gflop:N1} GFLOP",
    };

    private static string Bytes(long? bytes) => bytes switch
    {
        null => "",
        >= 1L << 40 => $"{bytes / (double)(1L << 40):N2} TiB",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):N2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):N1} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):N1} KiB",
        _ => $"{bytes} B",
    };

    private static string Duration(double? seconds) => seconds switch
    {
        null => "?",
        >= 86_400 => $"{seconds / 86_400:N1} d",
        >= 3_600 => $"{seconds / 3_600:N1} h",
        >= 60 => $"{seconds / 60:N1} min",
        _ => $"{seconds:N1} s",
    };

    private static string Hours(double? hours) => hours is { } h ? h.ToString(h < 10 ? "N2" : "N1", CultureInfo.InvariantCulture) : "";

    private static string Money(double? usd) => usd is { } u ? u.ToString("N2", CultureInfo.InvariantCulture) : "";
}
