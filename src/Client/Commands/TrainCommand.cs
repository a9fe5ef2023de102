using System.CommandLine;
using Spectre.Console;
using VlmRm.Clip.Models;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Logging;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary>
/// <c>vlmrm train &lt;preset|file.yaml&gt;</c>: one run of Algorithm 1 in this process, with a progress bar,
/// TensorBoard logs and checkpoints under runs/&lt;run&gt;/, and a ground-truth evaluation at the end.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "A preset name (presets/*.yaml, e.g. cartpole-dqn) or a YAML file." };
        var reward = EnumOption.Create<LabellerKind>("--reward", "Override the labeller");
        var steps = new Option<long?>("--steps") { Description = "Override total_timesteps." };
        var seed = new Option<int?>("--seed") { Description = "Override the seed." };
        var runs = new Option<DirectoryInfo>("--runs") { Description = "Folder for run outputs.", DefaultValueFactory = _ => new DirectoryInfo("runs") };
        var runId = new Option<string?>("--run-id") { Description = "Run id (default: <preset>-<seed>)." };
        var clip = new ClipOptions();
        var fresh = new Option<bool>("--fresh") { Description = "Ignore existing checkpoints of this run id and start over." };
        var keepEmbeddings = new Option<bool>("--keep-embeddings") { Description = "Keep each labelled frame's image embedding beside its transition (reward.keep_embeddings), so vlmrm relabel can re-reward the run." };
        var command = new Command("train", "Train one agent with Algorithm 1 (SAC or DQN, ground-truth or CLIP reward) in this process.")
        {
            config, reward, steps, seed, runs, runId, fresh, keepEmbeddings,
        };
        clip.AddTo(command, withModel: false);
        Output.AddOptionsTo(command);
        command.SetAction((parse, cancellationToken) => UserErrors.ReportAsync(async () =>
        {
            var run = RunConfigLoader.LoadFile(parse.GetValue(config)!);
            run = run with
            {
                TotalTimesteps = parse.GetValue(steps) ?? run.TotalTimesteps,
                Seed = parse.GetValue(seed) ?? run.Seed,
                Reward = run.Reward with { Labeller = parse.GetValue(reward) ?? run.Reward.Labeller, KeepEmbeddings = parse.GetValue(keepEmbeddings) || run.Reward.KeepEmbeddings },
            };
            RunConfigLoader.Validate(run, "command line");
            var id = parse.GetValue(runId) ?? $"{Path.GetFileNameWithoutExtension(parse.GetValue(config))}-{ConfigSpelling.Of(run.Reward.Labeller)}-seed{run.Seed}";
            return await Run(run, id, parse.GetValue(runs)!.FullName, clip.Options(parse), parse.GetValue(fresh), Output.For(parse), cancellationToken);
        }));
        return command;
    }

    private static async Task<int> Run(RunConfig config, string runId, string runsFolder, ClipRuntimeOptions clip, bool fresh, Output output, CancellationToken cancellationToken)
    {
        var runFolder = Path.Combine(runsFolder, runId);
        if (fresh && Directory.Exists(Path.Combine(runsFolder, "checkpoints", runId))) Directory.Delete(Path.Combine(runsFolder, "checkpoints", runId), recursive: true);
        var (labeller, model) = RewardLabellers.Create(config.Reward, clip);
        using var _ = model;
        using var log = new TensorBoardWriter(Path.Combine(runFolder, "tensorboard"));
        var store = new FileCheckpointStore(Path.Combine(runsFolder, "checkpoints"));
        using var trainer = new Algorithm1Trainer(config, labeller, runId, store, log);
        if (await trainer.TryResumeAsync(cancellationToken))
        {
            foreach (var damaged in trainer.PassedOverCheckpoints) output.Message($"[yellow]Passed over a damaged checkpoint: {Markup.Escape(damaged)}[/]");
            output.Message($"Resumed [blue]{Markup.Escape(runId)}[/] at step {trainer.Timesteps:N0}.");
        }
        output.Message($"{Markup.Escape(ConfigSpelling.Of(config.Algorithm).ToUpperInvariant())} on {Markup.Escape(config.Env)}, reward: {Markup.Escape(labeller.Name)}, {config.TotalTimesteps:N0} steps, device {trainer.Device}. Logs: [blue]{Markup.Escape(runFolder)}[/]");
        return await TrainAndEvaluateAsync(trainer, runId, Path.Combine(runsFolder, "checkpoints"), runFolder, output, cancellationToken);
    }

    /// <summary>Trains <paramref name="trainer"/> to its total with a progress bar, then judges its last and its selected checkpoint on the ground truth.</summary>
    /// <summary>The shell's code for a command ended by an interrupt (128 + SIGINT).</summary>
    public const int InterruptedExitCode = 130;

    internal static async Task<int> TrainAndEvaluateAsync(Algorithm1Trainer trainer, string runId, string checkpointsFolder, string runFolder, Output output, CancellationToken cancellationToken)
    {
        var config = trainer.Config;
        await output.ProgressAsync(runId, config.TotalTimesteps, trainer.Timesteps, report =>
            // Reported synchronously on the training loop, so every line describes the step it names.
            trainer.RunAsync(new SynchronousProgress<TrainingProgress>(p => report(p.Timesteps,
                $"{p.StepsPerSecond:N0} steps/s, return {SweepCommands.Show(p.MeanGroundTruthReturn)}, success {SweepCommands.Percent(p.SuccessRate)}")), cancellationToken));
        if (cancellationToken.IsCancellationRequested)
        {
            output.Result("interrupted", new { Run = runId, trainer.Timesteps, Checkpoints = Path.Combine(checkpointsFolder, runId) },
                $"Interrupted at step {trainer.Timesteps:N0}; its checkpoint is stored in [blue]{Markup.Escape(Path.Combine(checkpointsFolder, runId))}[/]. The same command resumes the run.");
            return InterruptedExitCode;
        }

        var evaluation = trainer.Evaluate(10);
        output.Result("evaluation", new { Run = runId, Checkpoint = "last", trainer.Timesteps, MeanReturn = Output.Finite(evaluation.MeanReturn), evaluation.SuccessRate },
            $"Evaluation (deterministic policy, 10 episodes, ground truth): mean return {evaluation.MeanReturn:F1}, success {evaluation.SuccessRate:P0}.");
        // The paper evaluates the checkpoint with the highest training reward (appendix C); it can differ from the last.
        var lastStep = trainer.Timesteps;
        if (await trainer.EvaluateBestCheckpointAsync(10, cancellationToken) is var (best, selected) && best.Timesteps != lastStep)
        {
            output.Result("evaluation", new { Run = runId, Checkpoint = "highest_training_reward", best.Timesteps, MeanReturn = Output.Finite(selected.MeanReturn), selected.SuccessRate },
                $"Checkpoint with the highest training reward (step {best.Timesteps:N0}, the paper's selection): mean return {selected.MeanReturn:F1}, success {selected.SuccessRate:P0}.");
        }
        output.Result("run", new { Run = runId, Checkpoints = Path.Combine(checkpointsFolder, runId), TensorBoard = runFolder },
            $"Checkpoints: [blue]{Markup.Escape(Path.Combine(checkpointsFolder, runId))}[/]; TensorBoard: tensorboard --logdir {Markup.Escape(runFolder)}");
        return 0;
    }

}
