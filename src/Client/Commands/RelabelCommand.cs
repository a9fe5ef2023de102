using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Logging;

namespace VlmRm.Client.Commands;

/// <summary>
/// <c>vlmrm relabel &lt;run&gt; --goal … --baseline … --alpha …</c>: a run recorded with its embeddings, re-rewarded for new
/// prompts or α from its stored embeddings and trained on as a new run (<see cref="RunRelabelling"/>).
/// </summary>
internal static class RelabelCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "Id of a run recorded with reward.keep_embeddings (vlmrm train --keep-embeddings, or a sweep's run id)." };
        var goal = new Option<string[]>("--goal") { Description = "New goal prompt(s) (default: the run's)." };
        var baseline = new Option<string[]>("--baseline") { Description = "New baseline prompt(s) (default: the run's)." };
        var alpha = new Option<float?>("--alpha") { Description = "New goal-baseline regularization strength α in [0, 1] (default: the run's)." };
        var steps = new Option<long?>("--steps") { Description = "Steps to train past the checkpoint (default: the run's total_timesteps again)." };
        var newId = new Option<string?>("--as") { Description = "Id of the new run (default: <run>.relabel-<hash of the new reward>)." };
        var checkpoints = new Option<DirectoryInfo?>("--checkpoints") { Description = "Checkpoint folder of the run (default: runs/checkpoints, then runs/cluster/checkpoints)." };
        var runs = new Option<DirectoryInfo>("--runs") { Description = "Folder for the new run's TensorBoard logs.", DefaultValueFactory = _ => new DirectoryInfo("runs") };
        var clip = new ClipOptions();
        var command = new Command("relabel", "Re-reward a run from its stored image embeddings (new prompts or α, no rendering, no image tower) and train on as a new run.")
        {
            run, goal, baseline, alpha, steps, newId, checkpoints, runs,
        };
        clip.AddTo(command, withModel: false);
        Output.AddOptionsTo(command);
        command.SetAction((parse, cancellationToken) => UserErrors.ReportAsync(async () =>
        {
            var source = parse.GetValue(run)!;
            var change = new RewardChange(parse.GetValue(goal) is { Length: > 0 } g ? g : null, parse.GetValue(baseline) is { Length: > 0 } b ? b : null, parse.GetValue(alpha));
            if (change is { Goal: null, Baseline: null, Alpha: null }) throw new ArgumentException("Give the new reward: --goal, --baseline and/or --alpha.");
            if (parse.GetValue(steps) is <= 0) throw new ArgumentException($"--steps must be positive, not {parse.GetValue(steps)}.");
            var folder = parse.GetValue(checkpoints)?.FullName ?? RunFolders.CheckpointsHolding(source);
            var target = parse.GetValue(newId) ?? $"{source}.relabel-{Hash(change)}";
            var output = Output.For(parse);
            var runFolder = Path.Combine(parse.GetValue(runs)!.FullName, target);
            using var log = new TensorBoardWriter(Path.Combine(runFolder, "tensorboard"));
            using var relabelled = await RunRelabelling.StartAsync(new FileCheckpointStore(folder), source, target, change, parse.GetValue(steps), clip.Options(parse), log, cancellationToken);
            var trainer = relabelled.Trainer;
            var reward = trainer.Config.Reward;
            output.Message(relabelled.Resumed
                ? $"Resumed [blue]{Markup.Escape(target)}[/] at step {trainer.Timesteps:N0} (re-rewarded from {Markup.Escape(source)} at step {relabelled.FromStep:N0} earlier)."
                : $"Re-rewarded the {trainer.LabelledTransitions:N0} stored transitions of [blue]{Markup.Escape(source)}[/] at step {relabelled.FromStep:N0} from their embeddings in {relabelled.Relabelling.TotalMilliseconds:N1} ms " +
                  $"(goal \"{Markup.Escape(string.Join(" / ", reward.Goal))}\", baseline \"{Markup.Escape(string.Join(" / ", reward.Baseline))}\", α = {reward.Alpha}); no frame rendered, no image-tower call.");
            output.Message($"Training [blue]{Markup.Escape(target)}[/] to step {trainer.Config.TotalTimesteps:N0}. Logs: [blue]{Markup.Escape(runFolder)}[/]");
            return await TrainCommand.TrainAndEvaluateAsync(trainer, target, folder, runFolder, output, cancellationToken);
        }));
        return command;
    }

    private static string Hash(RewardChange change)
    {
        var text = string.Join('\u001f', string.Join('\u001e', change.Goal ?? []), string.Join('\u001e', change.Baseline ?? []), change.Alpha?.ToString("R", CultureInfo.InvariantCulture) ?? "");
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
    }
}
