using System.Globalization;
using System.Net;
using System.Text;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.Figures;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.Evaluation.Rollouts;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Logging;
using VlmRm.Rl.Planning;
using VlmRm.Rl.Presets;

namespace VlmRm.Evaluation.Reports;

/// <summary>Where a run stood when the report was made, as its cluster reported it.</summary>
/// <param name="WallSeconds">From the run's first event to its last (every activation and wait included); null when unknown.</param>
public sealed record ReportRunState(string State, long Steps, long TotalSteps, double StepsPerSecond, double GroundTruthReturn, double SuccessRate, int Resumes, string? Error,
    double? WallSeconds = null);

public sealed record SweepReportOptions
{
    public required string OutputDirectory { get; init; }

    public required ICheckpointStore Checkpoints { get; init; }

    /// <summary>The runs' TensorBoard folders, one per run id (the cluster's <c>&lt;data&gt;/tensorboard</c>).</summary>
    public required string TensorBoardDirectory { get; init; }

    /// <summary>Where the sweep's CLIP models are, for the reward-model figures; null leaves them out (with a note).</summary>
    public ClipRuntimeOptions? Clip { get; init; }

    /// <summary>Ground-truth episodes of each run's selected checkpoint; the first is linked as a video.</summary>
    public int Episodes { get; init; } = 3;

    /// <summary>Uniformly drawn states per classic-control task for EPIC and the Fig. 7 histogram (appendix A).</summary>
    public int EpicStates { get; init; } = 400;

    /// <summary>The command that made the report, printed at its foot.</summary>
    public string? Command { get; init; }
}

/// <summary>
/// A sweep's results as one HTML page that opens from disk with no server: the runs' table (state, training figures,
/// and each run's checkpoint with the highest training reward — the paper's selection — judged on the ground truth,
/// with a video of it), the learning curves per task, and for every CLIP reward in the sweep its EPIC distance per α
/// on uniformly drawn states with the Fig. 2 landscape and Fig. 7 histogram (Fig. 4 where the sweep has several
/// models). Figures and videos lie beside the page and are linked relatively; the page is written last, atomically.
/// </summary>
public static class SweepReport
{
    public const string IndexFile = "index.html";
    private const int VideoSize = 256;

    public static async Task<string> WriteAsync(string sweep, IReadOnlyList<SweepRun> runs, IReadOnlyDictionary<string, ReportRunState> states,
        SweepReportOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Episodes < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Episodes, "Judge each policy on at least one episode.");
        var root = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(Path.Combine(root, "figures"));
        var notes = new List<string>();

        var policies = new Dictionary<string, ReviewSet?>();
        foreach (var run in runs)
        {
            progress?.Report($"judging the selected checkpoint of {run.RunId}");
            policies[run.RunId] = await SelectedPolicyAsync(run, options, root, notes, cancellationToken);
        }
        progress?.Report("learning curves");
        var curves = LearningCurves(runs, options, root, notes);
        progress?.Report("reward models");
        var rewardModels = RewardModels(runs, options, root, notes);
        var sizes = SizeFigures(rewardModels, options, root);

        var plan = SweepPlanFile.Read(Path.Combine(root, SweepPlanFile.Name));
        if (plan is null) notes.Add($"No {SweepPlanFile.Name} in {root}: ./vlmrm plan <sweep file> writes the estimate this page sets beside the measured runs.");
        var page = Page(sweep, runs, states, policies, curves, rewardModels, sizes, notes, options, root, plan);
        var index = Path.Combine(root, IndexFile);
        AtomicFile.WriteAllBytes(index, Encoding.UTF8.GetBytes(page));
        return index;
    }

    /// <summary>The run's checkpoint with the highest training reward, rolled out deterministically and recorded; null without one.</summary>
    private static async Task<ReviewSet?> SelectedPolicyAsync(SweepRun run, SweepReportOptions options, string root, List<string> notes, CancellationToken cancellationToken)
    {
        bool hasBest;
        using (var best = await options.Checkpoints.LoadBestAsync(run.RunId, cancellationToken)) hasBest = best is not null;
        if (!hasBest)
        {
            notes.Add($"{run.RunId} has no checkpoint yet: no policy to judge.");
            return null;
        }
        var rollout = new RolloutOptions
        {
            Episodes = options.Episodes, FrameWidth = VideoSize, FrameHeight = VideoSize, FrameStride = run.Config.EpisodeLength ?? 1000, Task = run.Task,
        };
        return await RolloutRecorder.RecordAsync(run.Config, run.RunId, options.Checkpoints, Path.Combine(root, "videos", FileName(run.RunId)), rollout, cancellationToken: cancellationToken);
    }

    private sealed record Figure(string Path, string Caption);

    private sealed record TaskCurves(string Task, IReadOnlyList<Figure> Figures);

    private static List<TaskCurves> LearningCurves(IReadOnlyList<SweepRun> runs, SweepReportOptions options, string root, List<string> notes)
    {
        var result = new List<TaskCurves>();
        foreach (var task in runs.GroupBy(r => r.Task))
        {
            var logs = task.ToDictionary(r => r.RunId, r => Path.Combine(options.TensorBoardDirectory, r.RunId));
            var scalars = logs.Where(l => Directory.Exists(l.Value)).ToDictionary(l => l.Key, l => TensorBoardReader.ReadScalars(l.Value));
            if (scalars.Count == 0)
            {
                notes.Add($"No TensorBoard logs of task {task.Key} under {options.TensorBoardDirectory}: no learning curves.");
                continue;
            }
            var figures = new List<Figure>();
            foreach (var tag in new[] { TrainingScalars.GroundTruthReturn, TrainingScalars.TrainingReturn, TrainingScalars.SuccessRate })
            {
                var series = scalars.Where(s => s.Value.ContainsKey(tag))
                    .Select(s => new Series(s.Key, s.Value[tag].Select(p => (double)p.Step).ToArray(), s.Value[tag].Select(p => (double)p.Value).ToArray())).ToList();
                if (series.Count == 0) continue;
                var (title, axis) = TrainingScalars.Describe(tag);
                var file = $"figures/curves-{FileName(task.Key)}-{tag[(tag.IndexOf('/') + 1)..]}.png";
                EvaluationPlots.LearningCurves(Path.Combine(root, file), $"{task.Key}: {title}", axis, series);
                figures.Add(new Figure(file, tag == TrainingScalars.GroundTruthReturn && task.Any(r => r.Config.Reward.LabellerFrames() is not null)
                    ? $"{title}: never seen by the CLIP-rewarded agents" : title));
            }
            result.Add(new TaskCurves(task.Key, figures));
        }
        return result;
    }

    private sealed record AlphaScore(float Alpha, double Epic, double RankingAccuracy, double GoalMean, double OtherMean);

    private sealed record RewardModelResult(string Env, string Model, RewardPrompts Prompts, IReadOnlyList<AlphaScore> Scores, IReadOnlyList<Figure> Figures, int States);

    private static List<RewardModelResult> RewardModels(IReadOnlyList<SweepRun> runs, SweepReportOptions options, string root, List<string> notes)
    {
        var results = new List<RewardModelResult>();
        var clipRuns = runs.Where(r => r.Config.Reward.LabellerFrames() is not null).ToList();
        if (clipRuns.Count == 0) return results;
        if (options.Clip is null)
        {
            notes.Add("No models directory was given: the CLIP rewards are not evaluated.");
            return results;
        }
        var groups = clipRuns.GroupBy(r => (r.Config.Env, Model: r.Config.Reward.Model ?? "",
            Goal: string.Join(" | ", r.Config.Reward.Goal), Baseline: string.Join(" | ", r.Config.Reward.Baseline)));
        foreach (var group in groups)
        {
            var first = group.First().Config;
            if (!ClassicControlStates.Supports(first.Env))
            {
                notes.Add($"{first.Env}: EPIC needs a labelled set of its states (vlmrm evaluate rollout-set, then evaluate epic); not drawn here.");
                continue;
            }
            using var model = OnnxClipModel.Load(group.Key.Model, options.Clip);
            using var sampler = new ClassicControlStates(first.Env, new EnvOptions
            {
                RenderWidth = first.Reward.FrameWidth, RenderHeight = first.Reward.FrameHeight, AssetsDirectory = first.EnvOptions.AssetsDirectory,
            });
            var (values, isGoal) = sampler.SampleStates(options.EpicStates, new Rng(12345));
            var embeddings = sampler.EmbedStates(values, model);
            var prompts = new RewardPrompts(first.Reward.Goal, first.Reward.Baseline);
            var rewardModel = new ClipRewardModel(model, prompts, 0);
            var alphas = group.Select(r => r.Config.Reward.Alpha).Concat([0f, 0.5f, 1f]).Distinct().Order().ToList();
            var scores = new List<AlphaScore>();
            var rewards = new float[isGoal.Length];
            foreach (var alpha in alphas)
            {
                rewardModel.WithAlpha(alpha).Score(embeddings, rewards);
                scores.Add(new AlphaScore(alpha, EpicDistance.ToGoalLabels(rewards, isGoal), GoalRanking.Accuracy(rewards, isGoal),
                    GoalRanking.MeanReward(rewards, isGoal, goal: true), GoalRanking.MeanReward(rewards, isGoal, goal: false)));
            }

            var name = FileName($"{first.Env}-{group.Key.Model}");
            var landscape = $"figures/landscape-{name}.png";
            EvaluationPlots.RewardLandscape(Path.Combine(root, landscape), $"Reward landscape (Fig. 2): {first.Env}, {group.Key.Model}", sampler.LandscapeAxis,
                Landscapes.Compute(sampler, rewardModel, alphas), sampler.GoalRegion);
            var runAlpha = group.First().Config.Reward.Alpha;
            rewardModel.WithAlpha(runAlpha).Score(embeddings, rewards);
            var histogram = $"figures/histogram-{name}.png";
            EvaluationPlots.GoalHistograms(Path.Combine(root, histogram), $"Goal vs non-goal rewards (Fig. 7): {first.Env}, α = {runAlpha}", rewards, isGoal);
            results.Add(new RewardModelResult(first.Env, group.Key.Model, prompts, scores,
                [new Figure(landscape, "reward along the task's coordinate, goal states shaded"), new Figure(histogram, $"{options.EpicStates} uniformly drawn states, α = {runAlpha}")], options.EpicStates));
        }
        return results;
    }

    /// <summary>Fig. 4 for every task and prompt pair that the sweep rewarded with more than one model.</summary>
    private static List<Figure> SizeFigures(IReadOnlyList<RewardModelResult> rewardModels, SweepReportOptions options, string root)
    {
        var figures = new List<Figure>();
        foreach (var task in rewardModels.GroupBy(r => (r.Env, r.Prompts.Goal[0])).Where(g => g.Count() > 1))
        {
            var points = task.SelectMany(r =>
            {
                var parameters = KnownClipModels.ParameterCount(r.Model, new ClipModelRegistry(options.Clip!).Resolve(r.Model).Manifest);
                return r.Scores.Select(s => new SizePoint(r.Model, parameters, s.Epic, $"α={s.Alpha}"));
            }).ToList();
            var file = $"figures/epic-vs-size-{FileName(task.Key.Env)}.png";
            EvaluationPlots.EpicVsModelSize(Path.Combine(root, file), $"EPIC distance vs CLIP size (Fig. 4): {task.Key.Env}", points);
            figures.Add(new Figure(file, $"{task.Key.Env}: EPIC per model and α"));
        }
        return figures;
    }

    private static string Page(string sweep, IReadOnlyList<SweepRun> runs, IReadOnlyDictionary<string, ReportRunState> states, Dictionary<string, ReviewSet?> policies,
        List<TaskCurves> curves, List<RewardModelResult> rewardModels, List<Figure> sizes, List<string> notes, SweepReportOptions options, string root, SweepPlanFile? plan)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Sweep {{E(sweep)}} — VlmRm report</title>
            <style>
              body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #1d2330; max-width: 1500px; }
              h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d8dce3; }
              table { border-collapse: collapse; font-size: .9rem; }
              th, td { border: 1px solid #d8dce3; padding: .25rem .5rem; text-align: left; vertical-align: top; }
              th { background: #f3f5f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
              .done { color: #1f7a40; } .failed { color: #b00020; } .running { color: #2563eb; }
              .figures { display: flex; flex-wrap: wrap; gap: 1rem; }
              figure { margin: 0; } figure img { width: 590px; border: 1px solid #e1e4ea; } figcaption { font-size: .85rem; color: #3b4456; }
              video { width: 160px; height: 160px; background: #000; }
              .notes li { color: #3b4456; }
            </style></head><body>
            <h1>Sweep <span id="sweep-name">{{E(sweep)}}</span></h1>
            <p>{{runs.Count}} runs · made {{DateTimeOffset.Now:yyyy-MM-dd HH:mm}} · each run's result is its checkpoint with the highest
            training reward (the paper's selection, appendix C), judged on the ground truth over {{options.Episodes}} deterministic episodes.</p>
            <h2>Runs</h2>
            <table id="runs"><tr><th>run</th><th>task</th><th>reward</th><th>seed</th><th>state</th><th>steps</th><th>steps/s</th>
            <th>GT return (training)</th><th>success (training)</th><th>resumes</th><th>selected checkpoint</th><th>its ground-truth success</th><th>video</th></tr>

            """);
        foreach (var run in runs)
        {
            var state = states.GetValueOrDefault(run.RunId);
            var reward = run.Config.Reward;
            var rewardText = reward.LabellerFrames() is null ? "ground truth" : $"CLIP {reward.Model}, α = {reward.Alpha}";
            var policy = policies[run.RunId];
            var selected = policy is null ? "–" : $"step {policy.CheckpointTimesteps:N0}";
            var success = policy is null ? "–" : $"{policy.Episodes.Count(e => e.GoalAtEnd == true)}/{policy.Episodes.Count} (mean return {policy.Episodes.Average(e => e.GroundTruthReturn):F1})";
            var video = policy is null ? "–"
                : $"<video controls muted preload=\"metadata\" src=\"{E(Relative(root, Path.Combine(root, "videos", FileName(run.RunId), policy.Episodes[0].Video)))}\"></video>";
            var stateClass = state?.State ?? "unknown";
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-run="{E(run.RunId)}"><td>{E(run.RunId)}</td><td>{E(run.Task)} ({E(run.Config.Env)}, {E(ConfigSpelling.Of(run.Config.Algorithm).ToUpperInvariant())})</td><td>{E(rewardText)}</td>
                <td class="n">{run.Seed}</td><td class="{E(stateClass)}">{E(stateClass)}{(state?.Error is { } error ? $": {E(error)}" : "")}</td>
                <td class="n">{(state is null ? "–" : $"{state.Steps:N0} / {state.TotalSteps:N0}")}</td><td class="n">{Number(state?.StepsPerSecond, "N0")}</td>
                <td class="n">{Number(state?.GroundTruthReturn, "F1")}</td><td class="n">{Percent(state?.SuccessRate)}</td><td class="n">{state?.Resumes.ToString(CultureInfo.InvariantCulture) ?? "–"}</td>
                <td>{selected}</td><td>{E(success)}</td><td>{video}</td></tr>

                """);
        }
        html.Append("</table>\n");
        if (plan is not null) AppendCost(html, runs, states, plan);
        html.Append("<h2>Learning curves</h2>\n");
        if (curves.Count == 0) html.Append("<p>No run has written curves yet.</p>\n");
        foreach (var task in curves)
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>{E(task.Task)}</h3>\n<div class=\"figures curves\">\n");
            foreach (var figure in task.Figures) AppendFigure(html, figure);
            html.Append("</div>\n");
        }
        html.Append("<h2>Reward models</h2>\n");
        if (rewardModels.Count == 0) html.Append("<p>No CLIP reward was evaluated for this sweep (see the notes below).</p>\n");
        foreach (var model in rewardModels)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <h3>{E(model.Env)}, {E(model.Model)}</h3>
                <p>Goal "{E(string.Join(" / ", model.Prompts.Goal))}", baseline "{E(string.Join(" / ", model.Prompts.Baseline))}"; {model.States} states drawn uniformly (appendix A), labelled by the task's goal predicate.</p>
                <table class="epic"><tr><th>α</th><th>EPIC distance (lower is better)</th><th>goal ranked above non-goal</th><th>mean reward, goal</th><th>mean reward, non-goal</th></tr>

                """);
            foreach (var s in model.Scores)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"n\">{s.Alpha:0.##}</td><td class=\"n\">{s.Epic:F3}</td><td class=\"n\">{s.RankingAccuracy:P1}</td><td class=\"n\">{s.GoalMean:F3}</td><td class=\"n\">{s.OtherMean:F3}</td></tr>\n");
            }
            html.Append("</table>\n<div class=\"figures epic-figures\">\n");
            foreach (var figure in model.Figures) AppendFigure(html, figure);
            html.Append("</div>\n");
        }
        if (sizes.Count > 0)
        {
            html.Append("<h3>Model size</h3>\n<div class=\"figures\">\n");
            foreach (var figure in sizes) AppendFigure(html, figure);
            html.Append("</div>\n");
        }
        if (notes.Count > 0)
        {
            html.Append("<h2>Notes</h2>\n<ul class=\"notes\">\n");
            foreach (var note in notes) html.Append(CultureInfo.InvariantCulture, $"<li>{E(note)}</li>\n");
            html.Append("</ul>\n");
        }
        if (options.Command is { } command) html.Append(CultureInfo.InvariantCulture, $"<p><small>Made by <code>{E(command)}</code>.</small></p>\n");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>What <c>vlmrm plan</c> estimated for each run beside what the run took.</summary>
    private static void AppendCost(StringBuilder html, IReadOnlyList<SweepRun> runs, IReadOnlyDictionary<string, ReportRunState> states, SweepPlanFile plan)
    {
        html.Append(CultureInfo.InvariantCulture, $"""
            <h2>Cost: planned and measured</h2>
            <p>Planned by <code>vlmrm plan</code> on {plan.CreatedUtc:yyyy-MM-dd HH:mm} UTC for {E(plan.Node ?? "this machine's CPU")}. Measured: from each run's first event to its last.</p>
            <table id="cost"><tr><th>run</th><th>planned wall-clock</th><th>measured wall-clock</th><th>measured / planned</th><th>planned steps/s</th><th>measured steps/s</th>
            <th>frames labelled</th><th>image-tower GPU-hours (planned)</th><th>cost, USD (planned)</th></tr>

            """);
        var planned = plan.Runs.ToDictionary(r => r.RunId);
        foreach (var run in runs)
        {
            if (!planned.TryGetValue(run.RunId, out var estimate)) continue;
            var cost = estimate.Cost;
            var state = states.GetValueOrDefault(run.RunId);
            var measured = state is { WallSeconds: > 0 } ? state.WallSeconds : null;
            var ratio = measured is { } m && cost.WallSeconds is { } w && w > 0 ? $"{m / w:F2}×" : "–";
            var plannedRate = cost.WallSeconds is { } ws && ws > 0 ? cost.EnvSteps / ws : (double?)null;
            var measuredRate = measured is { } ms && state is not null ? state.Steps / ms : (double?)null;
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-run="{E(run.RunId)}"><td>{E(run.RunId)}</td><td class="n">{Seconds(cost.WallSeconds)}</td><td class="n">{Seconds(measured)}</td><td class="n">{ratio}</td>
                <td class="n">{Number(plannedRate, "N0")}</td><td class="n">{Number(measuredRate, "N0")}</td><td class="n">{cost.Frames:N0}</td>
                <td class="n">{Number(cost.GpuHours, "N2")}</td><td class="n">{Number(cost.GpuCost, "N2")}</td></tr>

                """);
        }
        html.Append("</table>\n");
    }

    private static string Seconds(double? seconds) => seconds switch
    {
        null => "–",
        >= 3_600 => $"{seconds / 3_600:F1} h",
        >= 60 => $"{seconds / 60:F1} min",
        _ => $"{seconds:F0} s",
    };


    private static void AppendFigure(StringBuilder html, Figure figure) =>
        html.Append(CultureInfo.InvariantCulture, $"<figure><a href=\"{E(figure.Path)}\"><img src=\"{E(figure.Path)}\" alt=\"{E(figure.Caption)}\"></a><figcaption>{E(figure.Caption)} (<a href=\"{E(Path.ChangeExtension(figure.Path, ".csv"))}\">CSV</a>)</figcaption></figure>\n");

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Number(double? value, string format) => value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Percent(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("P0", CultureInfo.InvariantCulture) : "–";

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>A run id or model name as one safe path segment.</summary>
    private static string FileName(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
