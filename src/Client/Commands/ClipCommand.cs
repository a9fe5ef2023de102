using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using VlmRm.Clip.Models;
using VlmRm.Clip.Tokenization;
using VlmRm.ClipTraining;
using VlmRm.ClipTraining.Data;

namespace VlmRm.Client.Commands;

/// <summary>
/// <c>vlmrm clip train</c>: trains VlmRm's own small CLIP on frames of its environments and publishes it to the
/// models folder, where the registry, reward grains and evaluation verbs use it like any exported CLIP.
/// </summary>
internal static class ClipCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = $"Model size: {string.Join(", ", TrainedClipSizes.All.Keys)}.", DefaultValueFactory = _ => "small" };
        var name = new Option<string?>("--name") { Description = $"Registry name of the model (default VlmRm-<S|M|L>-32[-MiniLM]/envs-v{SceneSources.Version}[-plateau], VlmRm-ResNet18-MiniLM/… with --image-tower)." };
        var textHead = new Option<bool>("--text-head") { Description = "With --text-tower: also train a residual linear head on the locked tower's embeddings." };
        var textTower = new Option<string?>("--text-tower") { Description = $"Train the image tower against a locked pretrained text tower ({string.Join(", ", PretrainedTextTowers.All.Keys)}) instead of training CLIP's own text tower." };
        var imageTower = new Option<string?>("--image-tower") { Description = $"Keep a pretrained image tower locked ({string.Join(", ", PretrainedImageTowers.All.Keys)}) and train only a head from its features into --text-tower's space." };
        var featureBatches = new Option<int>("--feature-batches") { Description = "With --image-tower: distinct batches the head trains on, cycled (the tower embeds each frame once).", DefaultValueFactory = _ => new ClipTrainingOptions().FeatureBatches };
        var offScene = new Option<double>("--off-scene-weight") { Description = "Weight of the term that holds other scenes' captions and unrelated sentences flat over each scene's frames (0: InfoNCE alone).", DefaultValueFactory = _ => 0 };
        var envs = new Option<string[]>("--env") { Description = "Environments to draw frames from (repeatable).", DefaultValueFactory = _ => [.. new ClipTrainingOptions().Envs], AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps (with --until-plateau: the most it may take).", DefaultValueFactory = _ => new ClipTrainingOptions().Steps };
        var untilPlateau = new Option<bool>("--until-plateau") { Description = "Hold the peak learning rate until the training loss stops falling (three windows of --plateau-window steps in a row, none 0.5% below the best before it), then decay it to zero over a fifth of the steps taken: for size sweeps, where each width needs its own budget." };
        var plateauWindow = new Option<int>("--plateau-window") { Description = "With --until-plateau: steps per window the loss is averaged over.", DefaultValueFactory = _ => new ClipTrainingOptions().PlateauWindow };
        var batch = new Option<int>("--batch") { Description = "Image-caption pairs per step.", DefaultValueFactory = _ => new ClipTrainingOptions().BatchSize };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate (AdamW, warm-up then cosine, or held until the plateau with --until-plateau).", DefaultValueFactory = _ => new ClipTrainingOptions().LearningRate };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights and the data.", DefaultValueFactory = _ => 0 };
        var pool = new Option<int>("--humanoid-pool") { Description = "Humanoid frames rendered once and reused.", DefaultValueFactory = _ => new ClipTrainingOptions().HumanoidPool };
        var assets = new Option<DirectoryInfo?>("--assets") { Description = "The paper's textures and humanoid model (e.g. ../shared/assets/vlmrm)." };
        var models = new Option<DirectoryInfo>("--models") { Description = "Models folder the trained model is published to.", DefaultValueFactory = _ => new DirectoryInfo("models") };
        var work = new Option<DirectoryInfo>("--work") { Description = "Folder for the resumable training state.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "clip-train")) };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Refuse to publish a model folder larger than this (0: no limit).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "TorchSharp threads (0: one per core).", DefaultValueFactory = _ => 0 };

        var train = new Command("train", "Train VlmRm's own CLIP (a learned model of these environments, not zero-shot CLIP) and publish it to the models folder.")
        {
            size, name, textTower, textHead, imageTower, featureBatches, offScene, envs, steps, untilPlateau, plateauWindow, batch, learningRate, seed, pool, assets, models, work, maxBytes, threads,
        };
        Output.AddOptionsTo(train);
        train.SetAction((parse, cancellationToken) => Task.FromResult(UserErrors.Report(() =>
        {
            var options = new ClipTrainingOptions
            {
                Size = parse.GetValue(size)!,
                Name = parse.GetValue(name),
                TextTower = parse.GetValue(textTower),
                TextHead = parse.GetValue(textHead),
                ImageTower = parse.GetValue(imageTower),
                FeatureBatches = parse.GetValue(featureBatches),
                OffSceneWeight = parse.GetValue(offScene),
                Envs = parse.GetValue(envs)!,
                Steps = parse.GetValue(steps),
                UntilPlateau = parse.GetValue(untilPlateau),
                PlateauWindow = parse.GetValue(plateauWindow),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(learningRate),
                Seed = parse.GetValue(seed),
                HumanoidPool = parse.GetValue(pool),
                AssetsDirectory = parse.GetValue(assets)?.FullName,
                MaxModelBytes = parse.GetValue(maxBytes),
                Threads = parse.GetValue(threads),
            };
            options.Validate();
            // How the output looked is no part of the recipe.
            var commandLine = "./vlmrm clip train " + string.Join(' ', Environment.GetCommandLineArgs().Skip(3).Where(a => a is not ("--quiet" or "--json")));
            return Train(options, parse.GetValue(models)!.FullName, parse.GetValue(work)!.FullName, commandLine, Output.For(parse), cancellationToken);
        })));

        return new Command("clip", "VlmRm's own CLIP model.") { train };
    }

    private static int Train(ClipTrainingOptions options, string modelsDirectory, string workDirectory, string commandLine, Output output, CancellationToken cancellationToken)
    {
        var modelName = options.RegistryName;
        var tokenizer = Path.Combine(AppContext.BaseDirectory, ClipTokenizer.MergesFileName);
        var work = Path.Combine(workDirectory, Clip.Models.ClipModelRegistry.FolderName(modelName));
        var tower = options.ImageTower is null ? options.Size : $"a head on locked {options.ImageTower}";
        output.Message($"Training [blue]{Markup.Escape(modelName)}[/] ({Markup.Escape(tower)}) on {Markup.Escape(string.Join(", ", options.Envs))}: {(options.UntilPlateau ? "until the loss stops falling, at most " : "")}{options.Steps:N0} steps × {options.BatchSize} pairs.");
        using var trainer = new ClipTrainer(options, work, tokenizer);
        if (trainer.Resumed) output.Message($"Resumed from step {trainer.Step:N0} ({Markup.Escape(work)}).");
        var clock = Stopwatch.StartNew();
        output.Progress(modelName, options.Steps, trainer.Step, report =>
        {
            trainer.Train(new Progress<ClipTrainingPoint>(p => report(p.Step, $"loss {p.Loss:F3}, τ {p.LogitScale:F1}, {p.PairsPerSecond:N0} pairs/s")), cancellationToken);
        });
        if (!trainer.IsComplete)
        {
            output.ResultLine($"Stopped at step {trainer.Step:N0}; run the same command again to resume.");
            return 130;
        }
        if (options.UntilPlateau)
        {
            output.Message(trainer.Plateau is { } plateau
                ? $"The loss stopped falling at step {plateau:N0}; the learning rate decayed to zero by step {trainer.Step:N0}."
                : $"[yellow]The loss was still falling when the decay had to start to fit under --steps {options.Steps:N0}[/]: this model is not trained to its plateau; allow more steps.");
        }
        output.Message("Exporting to ONNX, checking it against the trained model, scoring the paper's prompts…");
        var report = TrainedClipPublisher.Publish(trainer, options, modelsDirectory, commandLine, clock.Elapsed.TotalSeconds, tokenizer);
        trainer.DeleteState();
        output.Results("paper_prompt", PaperPromptTable(report.PaperPrompts), report.PaperPrompts.Select(s => new { Model = modelName, s.EnvId, s.Alpha, s.Epic, s.RankingAccuracy }));
        var folder = Path.Combine(modelsDirectory, Clip.Models.ClipModelRegistry.FolderName(modelName));
        output.Result("model", new { Name = modelName, Folder = folder, report.Parameters, report.FinalLoss, report.OnnxAgreement, report.TrainingSeconds }, $"Published [blue]{Markup.Escape(folder)}[/]: {report.Parameters:N0} parameters, final loss {report.FinalLoss:F3}, ONNX agreement {report.OnnxAgreement:F6}, {report.TrainingSeconds:F0} s.");
        return 0;
    }

    /// <summary>The paper's prompts scored on a model (<see cref="PaperPromptEvaluation"/>), a row per task and α.</summary>
    public static Table PaperPromptTable(IEnumerable<PromptScore> scores)
    {
        var table = new Table().AddColumns("task", "α", "EPIC (lower is better)", "goal ranked above non-goal", "goal states");
        foreach (var score in scores) table.AddRow(Markup.Escape(score.EnvId), $"{score.Alpha:0.0}", $"{score.Epic:F3}", $"{score.RankingAccuracy:P1}", $"{score.GoalShare:P0}");
        return table;
    }
}
