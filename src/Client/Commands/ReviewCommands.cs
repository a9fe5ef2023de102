using System.CommandLine;
using Spectre.Console;
using Microsoft.Extensions.Hosting;
using VlmRm.Clip.Reward;
using VlmRm.Evaluation.Rollouts;
using VlmRm.Evaluation.Web;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary>Rollout videos of a checkpoint and the human-evaluation page over them (paper appendix B).</summary>
internal static class ReviewCommands
{
    public static IEnumerable<Command> Create() => [Videos(), ServeLabels(), ExportLabels()];

    private static Command Videos()
    {
        var config = new Argument<string>("config") { Description = "The run's preset or YAML file." };
        var runId = new Option<string>("--run-id") { Required = true };
        var runs = EvaluateCommand.RunsFolder();
        var output = EvaluateCommand.RequiredOutput("Folder for the review set (videos, frames, review.json).");
        var episodes = new Option<int>("--episodes") { DefaultValueFactory = _ => 10 };
        var size = new Option<int>("--size") { Description = "Video frame size (square, even).", DefaultValueFactory = _ => 256 };
        var stride = new Option<int>("--stride") { Description = "Label every n-th step's frame.", DefaultValueFactory = _ => 5 };
        var task = new Option<string?>("--task") { Description = "The goal as the person labelling should judge it (paper Table 2)." };
        var latest = new Option<bool>("--latest") { Description = "Record the latest checkpoint instead of the best (highest training reward)." };
        var withReward = new Option<bool>("--with-reward") { Description = "Score the labelled frames with the run's CLIP reward model, so the page can show EPIC to the human labels." };
        var clip = new ClipOptions();
        var command = new Command("videos", "MP4 rollouts of a run's best checkpoint plus the frames to label (a review set).") { config, runId, runs, output, episodes, size, stride, task, latest, withReward };
        clip.AddTo(command, withModel: false);
        command.SetAction((parse, cancellationToken) => UserErrors.ReportAsync(async () =>
        {
            var run = RunConfigLoader.LoadFile(parse.GetValue(config)!);
            var store = new FileCheckpointStore(Path.Combine(parse.GetValue(runs)!.FullName, "checkpoints"));
            using var model = parse.GetValue(withReward) ? Clip.Models.OnnxClipModel.Load(run.Reward.Model ?? throw new ArgumentException("--with-reward: the run's configuration names no CLIP model (reward.model)."), clip.Options(parse)) : null;
            var rewardModel = model is null ? null : new ClipRewardModel(model, new RewardPrompts(run.Reward.Goal, run.Reward.Baseline), run.Reward.Alpha);
            var options = new RolloutOptions
            {
                Episodes = parse.GetValue(episodes), FrameWidth = parse.GetValue(size), FrameHeight = parse.GetValue(size), FrameStride = parse.GetValue(stride),
                Task = parse.GetValue(task) ?? string.Join(" / ", run.Reward.Goal.DefaultIfEmpty(run.Env)),
            };
            ReviewSet? set = null;
            await Output.ForConsole().ProgressAsync("recording episodes", options.Episodes, 0, async report =>
                set = await RolloutRecorder.RecordAsync(run, parse.GetValue(runId)!, store, parse.GetValue(output)!.FullName, options, rewardModel,
                    new SynchronousProgress<int>(n => report(n, "")), parse.GetValue(latest), cancellationToken));
            var successes = set!.Episodes.Count(e => e.GoalAtEnd == true);
            AnsiConsole.MarkupLine($"{set.Episodes.Count} episodes of {Markup.Escape(set.Checkpoint)} ({set.CheckpointTimesteps:N0} steps): [blue]{Markup.Escape(parse.GetValue(output)!.FullName)}[/]");
            AnsiConsole.MarkupLine($"Ground truth: goal met at the episode's end in {successes}/{set.Episodes.Count} episodes; mean return {set.Episodes.Average(e => e.GroundTruthReturn):F1}.");
            AnsiConsole.MarkupLine($"Label them: [blue]vlmrm evaluate serve-labels {Markup.Escape(parse.GetValue(output)!.FullName)}[/]");
            return 0;
        }));
        return command;
    }

    private static Command ServeLabels()
    {
        var review = new Argument<DirectoryInfo>("review-set") { Description = "A review set recorded by `vlmrm evaluate videos`." };
        var url = new Option<string>("--url") { Description = "Where to listen (loopback by default: the page has no login).", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var allowRemote = new Option<bool>("--allow-remote") { Description = "Permit a --url beyond this machine (the page has no login: put it behind something that authenticates)." };
        var command = new Command("serve-labels", "Serve the human-evaluation page: watch rollouts, label frames, see success rate and EPIC.") { review, url, allowRemote };
        command.SetAction((parse, cancellationToken) => UserErrors.ReportAsync(async () =>
        {
            var app = LabelServer.Build(new LabelServerOptions { ReviewDirectory = parse.GetValue(review)!.FullName, Url = parse.GetValue(url)!, AllowRemote = parse.GetValue(allowRemote) });
            AnsiConsole.MarkupLine($"Labelling page on [blue]{Markup.Escape(parse.GetValue(url)!)}[/]; Ctrl+C stops it. Labels: {Markup.Escape(Path.Combine(parse.GetValue(review)!.FullName, HumanLabelStore.LabelsFile))}");
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }));
        return command;
    }

    private static Command ExportLabels()
    {
        var review = new Argument<DirectoryInfo>("review-set");
        var output = EvaluateCommand.RequiredOutput("Folder for the labelled set.");
        var labeller = new Option<string?>("--labeller") { Description = "Export this person's labels (needed when an episode has several)." };
        var command = new Command("export-labels", "Turn the human frame labels of a review set into a labelled set for EPIC.") { review, output, labeller };
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var store = new HumanLabelStore(parse.GetValue(review)!.FullName);
            var set = store.ExportLabelledSet(parse.GetValue(output)!.FullName, parse.GetValue(labeller));
            AnsiConsole.MarkupLine($"Labelled set [blue]{Markup.Escape(set.Directory)}[/]: {set.Count} frames, {set.GoalCount} goal. Summary: success rate {store.Summarize().SuccessRate:P0}.");
            return 0;
        }));
        return command;
    }
}
