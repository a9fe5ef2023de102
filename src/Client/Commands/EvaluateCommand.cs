using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Envs.Mujoco;
using VlmRm.Evaluation;
using VlmRm.Evaluation.Curves;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.Figures;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.Evaluation.Language;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Logging;
using VlmRm.Rl.Presets;

namespace VlmRm.Client.Commands;

/// <summary>
/// <c>vlmrm evaluate …</c>: labelled sets, EPIC (paper appendix A), prompt screening, the paper's figures,
/// rollout videos and the human-evaluation page (appendix B).
/// </summary>
internal static class EvaluateCommand
{
    private static readonly float[] PaperAlphas = [0f, 0.25f, 0.5f, 0.75f, 1f];

    public static Command Create()
    {
        var command = new Command("evaluate", "Evaluate reward models and agents: labelled sets, EPIC, prompt screening, figures, rollout videos, the labelling page.");
        foreach (var sub in new[] { MakeSet(), RolloutSet(), Epic(), Screen(), Language(), PaperPromptsCommand(), NearMisses(), Landscape(), EpicVsSize(), GroundTruthEpic(), Curves(), EpicJobCommand.Create() }) command.Subcommands.Add(sub);
        foreach (var sub in ReviewCommands.Create()) command.Subcommands.Add(sub);
        return command;
    }

    private static Command MakeSet()
    {
        var env = new Argument<string>("env") { Description = "CartPole, a MountainCar id (MountainCar, MountainCarTextured) or Humanoid." };
        var output = RequiredOutput("Folder for the new labelled set.");
        var count = new Option<int>("--count") { Description = "States to draw.", DefaultValueFactory = _ => 500 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = "Frame size in pixels (square).", DefaultValueFactory = _ => 224 };
        var assets = new Option<DirectoryInfo?>("--assets") { Description = "The paper's assets folder (textured MountainCar, the paper's humanoid)." };
        var task = EnumOption.Create<HumanoidPose>("--task", "Humanoid: the task whose pose predicate labels the frames");
        var command = new Command("make-set",
            "A labelled set labelled by the goal predicate: uniformly drawn classic-control states (appendix A), or Humanoid states half posed, half from a random policy.")
        {
            env, output, count, seed, size, assets, task,
        };
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var envId = parse.GetValue(env)!;
            var isHumanoid = envId.Equals("Humanoid", StringComparison.OrdinalIgnoreCase);
            if (isHumanoid != parse.GetValue(task).HasValue)
            {
                throw new ArgumentException(isHumanoid
                    ? $"Name the Humanoid task whose pose labels the set: --task {ConfigSpelling.Choices(typeof(HumanoidPose))}."
                    : $"--task applies to Humanoid sets; {envId} sets are labelled by its goal predicate.");
            }
            var set = WithProgress("rendering states", parse.GetValue(count), p => isHumanoid
                ? SetGenerators.HumanoidPoseStates(parse.GetValue(task)!.Value, parse.GetValue(count), parse.GetValue(seed), parse.GetValue(output)!.FullName, parse.GetValue(size), parse.GetValue(assets)?.FullName, p)
                : SetGenerators.UniformStates(envId, parse.GetValue(count), parse.GetValue(seed), parse.GetValue(output)!.FullName, parse.GetValue(size), parse.GetValue(assets)?.FullName, p));
            AnsiConsole.MarkupLine($"Labelled set [blue]{Markup.Escape(set.Directory)}[/]: {set.Count} states, {set.GoalCount} goal ({set.Manifest.Task}).");
            return 0;
        }));
        return command;
    }

    private static Command RolloutSet()
    {
        var config = new Argument<string>("config") { Description = "The run's preset or YAML file." };
        var runId = new Option<string>("--run-id") { Required = true };
        var runs = RunsFolder();
        var output = RequiredOutput("Folder for the new labelled set.");
        var pose = EnumOption.Create<HumanoidPose>("--pose", "Label Humanoid frames with this task's geometric test, not the environment's success predicate");
        var episodes = new Option<int>("--episodes") { Description = "Episodes per checkpoint.", DefaultValueFactory = _ => 1 };
        var size = new Option<int>("--size") { DefaultValueFactory = _ => 224 };
        var command = new Command("rollout-set", "A labelled set from rollouts of every checkpoint of a run (appendix B's procedure).") { config, runId, runs, output, pose, episodes, size };
        command.SetAction((parse, cancellationToken) => UserErrors.ReportAsync(async () =>
        {
            var run = RunConfigLoader.LoadFile(parse.GetValue(config)!);
            var store = new FileCheckpointStore(Path.Combine(parse.GetValue(runs)!.FullName, "checkpoints"));
            var set = await SetGenerators.CheckpointRollouts(run, parse.GetValue(runId)!, store, parse.GetValue(output)!.FullName, parse.GetValue(episodes), parse.GetValue(size), parse.GetValue(pose), cancellationToken: cancellationToken);
            AnsiConsole.MarkupLine($"Labelled set [blue]{Markup.Escape(set.Directory)}[/]: {set.Count} frames, {set.GoalCount} goal.");
            return 0;
        }));
        return command;
    }

    private static Command Epic()
    {
        var alpha = new Option<float>("--alpha") { Description = "Goal-baseline regularization strength α.", DefaultValueFactory = _ => 0f };
        var histogram = new Option<FileInfo?>("--histogram") { Description = "Also write the goal/non-goal reward histogram (paper Fig. 7) to this PNG." };
        return OnLabelledSet("epic", "EPIC distance of a CLIP reward model to a labelled set's goal labels (Lemma 1).", [alpha, histogram], (parse, labelled, model, embeddings, prompts) =>
        {
            var rewardModel = new ClipRewardModel(model, prompts, parse.GetValue(alpha));
            var labels = labelled.Labels();
            var result = PromptScreening.Score(new PromptCandidate(string.Join(" | ", rewardModel.Prompts.Goal), string.Join(" | ", rewardModel.Prompts.Baseline), rewardModel.Reward.Alpha), rewardModel.Reward, embeddings, labels);
            var interval = EpicBootstrap.GoalLabelsInterval(PromptScreening.Rewards(embeddings, rewardModel.Reward), labels);
            AnsiConsole.MarkupLine($"EPIC distance [bold]{result.Epic:F4}[/] ({interval}; {model.Folder.Name}, α={rewardModel.Reward.Alpha}, {labelled.Count} states, {labelled.GoalCount} goal); mean reward goal {result.MeanGoalReward:F4}, non-goal {result.MeanNonGoalReward:F4}.");
            if (parse.GetValue(histogram) is { } png)
            {
                EvaluationPlots.GoalHistograms(png.FullName, $"Rewards of goal and non-goal states (Fig. 7): {model.Manifest.Name}, α = {rewardModel.Reward.Alpha}, EPIC {result.Epic:F3}", PromptScreening.Rewards(embeddings, rewardModel.Reward), labels);
                AnsiConsole.MarkupLine($"Histogram: [blue]{Markup.Escape(png.FullName)}[/] (+ .csv)");
            }
            return 0;
        });
    }

    private static Command Screen()
    {
        var alphas = AlphasOption();
        var csv = new Option<FileInfo?>("--csv") { Description = "Write the ranking as CSV." };
        var set = new Option<DirectoryInfo?>("--set") { Description = "A labelled set folder (vlmrm evaluate make-set / rollout-set / export-labels)." };
        var run = new Option<string?>("--run") { Description = "Instead of a set: the states a run visited (its replay buffer; a run recorded with reward.keep_embeddings), labelled by the task's predicate." };
        var checkpoints = new Option<DirectoryInfo?>("--checkpoints") { Description = "With --run: the run's checkpoint folder (default: runs/checkpoints, then runs/cluster/checkpoints)." };
        var states = new Option<int>("--states") { Description = "With --run: at most this many of its stored transitions, evenly spaced.", DefaultValueFactory = _ => 20_000 };
        var model = new Option<string?>("--model") { Description = "CLIP model (with --set; a run's own model with --run, where its embeddings came from)." };
        var (clip, prompts) = (new ClipOptions(), new PromptOptions());
        var command = new Command("screen", "Rank goal/baseline prompts and α by EPIC on a labelled set or on the states a run visited, before any RL is spent on them.")
        {
            set, run, checkpoints, states, model, alphas, csv,
        };
        clip.AddTo(command, withModel: false);
        prompts.AddTo(command);
        command.SetAction((parse, cancellationToken) => UserErrors.ReportAsync(async () =>
        {
            if ((parse.GetValue(set) is null) == (parse.GetValue(run) is null)) throw new ArgumentException("Give --set (a labelled set) or --run (the states a run visited): one of them.");
            SetEmbeddings embeddings;
            bool[] labels;
            string env, modelName;
            string? task;
            if (parse.GetValue(run) is { } runId)
            {
                var folder = parse.GetValue(checkpoints)?.FullName ?? RunFolders.CheckpointsHolding(runId);
                var visited = await VisitedStates.LoadAsync(new FileCheckpointStore(folder), runId, parse.GetValue(states), cancellationToken);
                if (parse.GetValue(model) is { } asked && asked != visited.Config.Reward.Model)
                {
                    throw new ArgumentException($"Run {runId}'s embeddings were made by {visited.Config.Reward.Model}; --model {asked} would read them as another model's.");
                }
                (embeddings, labels, env, modelName) = (visited.Embeddings, visited.Labels, visited.Config.Env, visited.Config.Reward.Model!);
                task = visited.Config.EnvOptions.SuccessPose is { } pose ? HumanoidSkeleton.ConfigName(pose) : null;
                AnsiConsole.MarkupLine($"{visited.Labels.Length:N0} states run [blue]{Markup.Escape(runId)}[/] visited up to step {visited.Step:N0}, {visited.Labels.Count(l => l):N0} goal by {Markup.Escape(visited.Labeller)}; no image-tower call.");
            }
            else
            {
                var labelled = LabelledSet.Load(parse.GetValue(set)!.FullName);
                modelName = parse.GetValue(model) ?? throw new ArgumentException("--model is required with --set: the CLIP model whose image tower embeds the set.");
                using var setModel = OnnxClipModel.Load(modelName, clip.Options(parse));
                (embeddings, labels, env, task) = (Embed(labelled, setModel), labelled.Labels(), labelled.Manifest.Env, labelled.Manifest.Task);
            }
            using var textModel = OnnxClipModel.Load(modelName, clip.Options(parse));
            if (textModel.EmbedDim != embeddings.EmbedDim) throw new ArgumentException($"{modelName} embeds to {textModel.EmbedDim} values; the stored embeddings have {embeddings.EmbedDim}.");
            var candidates = prompts.Get(parse, env, task);
            var ranking = PromptScreening.Rank(textModel, embeddings, labels, candidates.Goal, candidates.Baseline, ParseAlphas(parse.GetValue(alphas)!));
            var table = new Table().AddColumns("rank", "EPIC", "α", "goal prompt", "baseline prompt");
            for (var i = 0; i < ranking.Count; i++)
            {
                var r = ranking[i];
                table.AddRow($"{i + 1}", r.Epic.ToString("F4", CultureInfo.InvariantCulture), $"{r.Candidate.Alpha}", Markup.Escape(r.Candidate.Goal), Markup.Escape(r.Candidate.Baseline));
            }
            AnsiConsole.Write(table);
            if (parse.GetValue(csv) is { } file)
            {
                var lines = ranking.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Epic:R},{r.Candidate.Alpha},{CsvText.Field(r.Candidate.Goal)},{CsvText.Field(r.Candidate.Baseline)}"));
                CsvText.WriteFile(file.FullName, "epic,alpha,goal,baseline", lines);
            }
            return 0;
        }));
        return command;
    }

    private static Command Language()
    {
        var states = new Option<int>("--states") { Description = "Uniformly drawn states per task.", DefaultValueFactory = _ => 600 };
        var assets = new Option<DirectoryInfo?>("--assets") { Description = "The paper's assets folder: textured MountainCar is measured again with the paper's own textures." };
        var csv = new Option<FileInfo?>("--csv") { Description = "Write every sentence's EPIC as CSV." };
        var clip = new ClipOptions();
        var command = new Command("language",
            "EPIC of held-out sentences (on-task in new words, negatives, off-task) used as goal prompts, per task, against the paper's prompt: does the model read English or only its training captions?")
        {
            states, assets, csv,
        };
        clip.AddTo(command);
        command.SetAction((parse, cancellationToken) => Task.FromResult(UserErrors.Report(() =>
        {
            using var model = clip.Load(parse);
            var scores = LanguageEvaluation.Measure(model, parse.GetValue(assets)?.FullName, parse.GetValue(states));
            var table = new Table().AddColumns("task", "sentences", "paper prompt", "best", "mean", "worst", "worst signal", "target", "met");
            foreach (var row in LanguageEvaluation.Summarize(scores))
            {
                table.AddRow(Markup.Escape(row.Task), row.List, F(row.PaperEpic), F(row.Best), F(row.Mean), F(row.Worst), F(row.WorstSignal), Markup.Escape(row.Target), row.TargetMet ? "[green]yes[/]" : "[red]no[/]");
            }
            AnsiConsole.MarkupLine($"EPIC (lower is better; chance ≈ 0.71) of each sentence as the goal prompt, α = 0, {parse.GetValue(states)} uniform states per task, model [blue]{Markup.Escape(model.Folder.Name)}[/]:");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("Signal: a sentence's goal/non-goal reward gap as a share of the paper prompt's (EPIC ignores the reward's scale); worst: the weakest on-task sentence, the largest reward for the wrong thing otherwise.");
            if (parse.GetValue(csv) is { } file)
            {
                var lines = scores.Select(r => string.Create(CultureInfo.InvariantCulture, $"{CsvText.Field(r.Task)},{r.List},{CsvText.Field(r.Sentence)},{r.Epic:R},{r.Signal:R}"));
                CsvText.WriteFile(file.FullName, "task,list,sentence,epic,signal", lines);
            }
            return 0;
        })));
        return command;

        static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
    }

    private static Command PaperPromptsCommand()
    {
        var envs = new Option<string[]>("--env") { Description = "Tasks to score (repeatable).", DefaultValueFactory = _ => ["CartPole", "MountainCar", "MountainCarTextured", "Humanoid"], AllowMultipleArgumentsPerToken = true };
        var assets = new Option<DirectoryInfo?>("--assets") { Description = "The paper's assets folder: its textured humanoid." };
        var csv = new Option<FileInfo?>("--csv") { Description = "Write every figure as CSV." };
        var clip = new ClipOptions();
        var command = new Command("paper-prompts",
            "EPIC and ranking accuracy of the paper's prompts (Table 3) at α 0, 0.5 and 1: uniform classic-control states, and for each of the Humanoid's eight tasks 400 states half posed, half from a random policy, labelled by the task's pose predicate.")
        {
            envs, assets, csv,
        };
        clip.AddTo(command);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            using var model = clip.Load(parse);
            var scores = ClipTraining.PaperPromptEvaluation.Measure(model, parse.GetValue(envs)!, assetsDirectory: parse.GetValue(assets)?.FullName);
            AnsiConsole.MarkupLine($"The paper's prompts on model [blue]{Markup.Escape(model.Folder.Name)}[/]:");
            AnsiConsole.Write(ClipCommand.PaperPromptTable(scores));
            if (parse.GetValue(csv) is { } file)
            {
                var lines = scores.Select(r => string.Create(CultureInfo.InvariantCulture, $"{CsvText.Field(r.EnvId)},{r.Alpha},{r.Epic:R},{r.RankingAccuracy:R},{r.GoalShare:R}"));
                CsvText.WriteFile(file.FullName, "task,alpha,epic,ranking_accuracy,goal_share", lines);
            }
            return 0;
        }));
        return command;
    }

    private static Command NearMisses()
    {
        var task = EnumOption.Create<HumanoidPose>("--task", "The Humanoid task whose prompts score the postures");
        var perGroup = new Option<int>("--per-group") { Description = "States drawn per posture.", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var assets = new Option<DirectoryInfo?>("--assets") { Description = "The paper's assets folder: its textured humanoid." };
        var csv = new Option<FileInfo?>("--csv") { Description = "Write every group's figures as CSV." };
        var alpha = new Option<float>("--alpha") { Description = "Goal-baseline regularisation strength (paper Definition 1).", DefaultValueFactory = _ => 0f };
        var clip = new ClipOptions();
        var prompts = new PromptOptions();
        var command = new Command("near-misses",
            "A task's posture against the postures one feature away from it (a lunge for kneeling), the other tasks' postures, random postures and random-policy states: mean CLIP reward per group from the paper's camera. An agent goes to the best-scored posture it reaches, so a near miss above the task is an optimum outside the pose.")
        {
            task, perGroup, seed, assets, csv, alpha,
        };
        clip.AddTo(command);
        prompts.AddTo(command);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var pose = parse.GetValue(task) ?? throw new ArgumentException($"Name the Humanoid task: --task {ConfigSpelling.Choices(typeof(HumanoidPose))}.");
            using var states = new HumanoidStates(224, parse.GetValue(assets)?.FullName, pose);
            using var model = clip.Load(parse);
            var rewardModel = new ClipRewardModel(model, prompts.Get(parse, states.EnvId, HumanoidSkeleton.ConfigName(pose)), parse.GetValue(alpha));
            var groups = NearMissContrast.Measure(states, pose, rewardModel, parse.GetValue(perGroup), parse.GetValue(seed));
            var table = new Table().AddColumns("posture", "mean reward", "min", "max", $"in the {HumanoidSkeleton.ConfigName(pose)} pose");
            foreach (var g in groups)
            {
                var name = g.IsTask ? $"[bold]{Markup.Escape(g.Name)}[/] (the task)" : Markup.Escape(g.Name);
                table.AddRow(name, F(g.MeanReward), F(g.MinReward), F(g.MaxReward), $"{g.InPose}/{g.Count}");
            }
            AnsiConsole.MarkupLine($"[blue]{Markup.Escape(model.Folder.Name)}[/], goal {Markup.Escape(string.Join(" | ", rewardModel.Prompts.Goal))}, α = {F(rewardModel.Reward.Alpha)}:");
            AnsiConsole.Write(table);
            var margin = NearMissContrast.Margin(groups);
            AnsiConsole.MarkupLine(margin > 0
                ? $"The task's posture scores highest, {F(margin)} above the next."
                : $"[yellow]{Markup.Escape(groups.Where(g => !g.IsTask).MaxBy(g => g.MeanReward)!.Name)} scores {F(-margin)} above the task's posture[/]: an agent rewarded by this model can do better outside the pose.");
            if (parse.GetValue(csv) is { } file)
            {
                var lines = groups.Select(g => string.Create(CultureInfo.InvariantCulture, $"{CsvText.Field(g.Name)},{g.IsTask},{g.Count},{g.MeanReward:R},{g.MinReward:R},{g.MaxReward:R},{g.InPose}"));
                CsvText.WriteFile(file.FullName, "posture,is_task,count,mean_reward,min_reward,max_reward,in_pose", lines);
            }
            return 0;
        }));
        return command;

        static string F(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
    }

    private static Command Landscape()
    {
        var env = new Argument<string>("env") { Description = "CartPole, MountainCar or MountainCarTextured." };
        var clip = new ClipOptions();
        var prompts = new PromptOptions();
        var alphas = AlphasOption();
        var points = new Option<int>("--points") { DefaultValueFactory = _ => 91 };
        var output = RequiredOutput("PNG to write (a CSV goes beside it).");
        var assets = new Option<DirectoryInfo?>("--assets");
        var command = new Command("landscape", "CLIP reward against pole angle / car position for several α (paper Fig. 2).") { env, alphas, points, output, assets };
        clip.AddTo(command);
        prompts.AddTo(command);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            using var states = new ClassicControlStates(parse.GetValue(env)!, new EnvOptions { RenderWidth = 224, RenderHeight = 224, AssetsDirectory = parse.GetValue(assets)?.FullName });
            using var model = clip.Load(parse);
            var rewardModel = new ClipRewardModel(model, prompts.Get(parse, states.Spec.Id), 0);
            var series = Landscapes.Compute(states, rewardModel, ParseAlphas(parse.GetValue(alphas)!), parse.GetValue(points));
            EvaluationPlots.RewardLandscape(parse.GetValue(output)!.FullName, $"Reward landscape (Fig. 2): {states.Spec.Id}, {model.Manifest.Name}", states.LandscapeAxis, series, states.GoalRegion);
            AnsiConsole.MarkupLine($"Reward landscape: [blue]{Markup.Escape(parse.GetValue(output)!.FullName)}[/] (+ .csv)");
            return 0;
        }));
        return command;
    }

    private static Command EpicVsSize()
    {
        var set = SetOption();
        var clip = new ClipOptions();
        var prompts = new PromptOptions();
        var alphas = AlphasOption();
        var names = new Option<string[]>("--model-names") { Description = "Models to compare (default: every model present).", AllowMultipleArgumentsPerToken = true };
        var output = RequiredOutput("PNG to write (a CSV goes beside it).");
        var command = new Command("epic-vs-size", "EPIC distance to a labelled set for every CLIP model present, against model size (paper Fig. 4).") { set, alphas, names, output };
        clip.AddTo(command, withModel: false);
        prompts.AddTo(command);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var labelled = LabelledSet.Load(parse.GetValue(set)!.FullName);
            var labels = labelled.Labels();
            var options = clip.Options(parse);
            var models = parse.GetValue(names) is { Length: > 0 } chosen ? chosen : new ClipModelRegistry(options).Available().ToArray();
            if (models.Length == 0) throw new InvalidDataException($"No CLIP model is present in {options.ModelsDirectory}; see `vlmrm models`.");
            var points = new List<(SizePoint Point, float[] Rewards)>();
            foreach (var name in models)
            {
                using var model = OnnxClipModel.Load(name, options);
                var embeddings = Embed(labelled, model);
                var rewardModel = new ClipRewardModel(model, prompts.Get(parse, labelled.Manifest.Env, labelled.Manifest.Task), 0);
                var parameters = KnownClipModels.ParameterCount(name, model.Manifest);
                foreach (var a in ParseAlphas(parse.GetValue(alphas)!))
                {
                    var rewards = PromptScreening.Rewards(embeddings, rewardModel.WithAlpha(a));
                    var (epic, interval) = (EpicDistance.ToGoalLabels(rewards, labels), EpicBootstrap.GoalLabelsInterval(rewards, labels));
                    points.Add((new SizePoint(name, parameters, epic, $"α={a}", interval), rewards));
                    AnsiConsole.MarkupLine($"{Markup.Escape(name)} ({parameters / 1e6:F0} M parameters), α={a}: EPIC {epic:F4} ({interval})");
                }
            }
            // Whether the set tells neighbouring sizes apart: their difference on the same resampled states.
            foreach (var variant in points.GroupBy(p => p.Point.Variant))
            {
                var bySize = variant.OrderBy(p => p.Point.Parameters).ToArray();
                for (var i = 1; i < bySize.Length; i++)
                {
                    var (smaller, larger) = (bySize[i - 1], bySize[i]);
                    var difference = EpicBootstrap.DifferenceInterval(smaller.Rewards, larger.Rewards, labels);
                    // Named, not "the smaller": two training seeds of one width have the same size.
                    var verdict = difference.High < 0 ? $"{larger.Point.Model} is closer on this set" : difference.Low > 0 ? $"{smaller.Point.Model} is closer on this set" : "this set does not tell them apart";
                    AnsiConsole.MarkupLine($"{Markup.Escape(variant.Key)}: {Markup.Escape(larger.Point.Model)} − {Markup.Escape(smaller.Point.Model)}: {larger.Point.Epic - smaller.Point.Epic:+0.0000;-0.0000} ({difference}): {Markup.Escape(verdict)}.");
                }
            }
            // Several training runs of a width: how far they spread, and whether neighbouring widths differ by more.
            foreach (var curve in SizeCurve.Of(points.Select(p => p.Point)))
            {
                var widths = curve.Widths;
                if (widths.All(w => w.Epics.Length == 1)) continue;
                foreach (var width in widths) AnsiConsole.MarkupLine($"{Markup.Escape(curve.Variant)}: {width.Parameters / 1e6:F1} M parameters: {width.Spread}");
                for (var i = 1; i < widths.Count; i++)
                {
                    var (smaller, larger) = (widths[i - 1], widths[i]);
                    var chance = SeedComparison.TwoSidedP(smaller.Epics, larger.Epics);
                    var verdict = chance <= 0.05 ? "the widths differ by more than their training runs do"
                        : $"their training runs do not tell them apart ({smaller.Epics.Length} against {larger.Epics.Length} runs reach p = {SeedComparison.SmallestP(smaller.Epics.Length, larger.Epics.Length):F2} at best)";
                    AnsiConsole.MarkupLine($"{Markup.Escape(curve.Variant)}: {larger.Parameters / 1e6:F1} M − {smaller.Parameters / 1e6:F1} M parameters: {larger.Spread.Mean - smaller.Spread.Mean:+0.0000;-0.0000} in the mean, exact Mann–Whitney p = {chance:F2}: {verdict}.");
                }
            }
            EvaluationPlots.EpicVsModelSize(parse.GetValue(output)!.FullName, $"EPIC distance vs CLIP size (Fig. 4): {labelled.Manifest.Env}, {labelled.Manifest.Task}", points.Select(p => p.Point).ToList());
            AnsiConsole.MarkupLine($"Figure: [blue]{Markup.Escape(parse.GetValue(output)!.FullName)}[/] (+ .csv)");
            return 0;
        }));
        return command;
    }

    private static Command GroundTruthEpic()
    {
        var env = new Argument<string>("env") { Description = "CartPole or a MountainCar id." };
        var clip = new ClipOptions();
        var prompts = new PromptOptions();
        var alpha = new Option<float>("--alpha") { DefaultValueFactory = _ => 0f };
        var gamma = new Option<double>("--gamma") { Description = "Discount used in canonicalization.", DefaultValueFactory = _ => 0.99 };
        var transitions = new Option<int>("--transitions") { DefaultValueFactory = _ => 1000 };
        var canonical = new Option<int>("--canonical") { Description = "Samples per canonicalization expectation.", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 0 };
        var command = new Command("gt-epic", "General EPIC (Gleave et al.) between the task's ground-truth reward and a CLIP reward, over uniformly drawn transitions.") { env, alpha, gamma, transitions, canonical, seed };
        clip.AddTo(command);
        prompts.AddTo(command);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            using var states = new ClassicControlStates(parse.GetValue(env)!, new EnvOptions { RenderWidth = 224, RenderHeight = 224 });
            using var model = clip.Load(parse);
            var reward = new ClipRewardModel(model, prompts.Get(parse, states.Spec.Id), parse.GetValue(alpha)).Reward;
            var sample = states.SampleTransitions(parse.GetValue(transitions), parse.GetValue(canonical), new Rng((ulong)parse.GetValue(seed)));
            var clipReward = EpicDistance.OfNextState((next, rewards) =>
            {
                var embeddings = states.EmbedStates(next, model);
                var scores = new float[rewards.Length];
                reward.Score(embeddings, scores);
                for (var i = 0; i < scores.Length; i++) rewards[i] = scores[i];
            });
            var distance = EpicDistance.Between(states.GroundTruthReward(), clipReward, sample, parse.GetValue(gamma));
            AnsiConsole.MarkupLine($"EPIC(ground truth, CLIP {Markup.Escape(model.Folder.Name)} α={reward.Alpha}) = [bold]{distance:F4}[/] over {sample.Transitions} transitions, γ={parse.GetValue(gamma)}.");
            return 0;
        }));
        return command;
    }

    private static Command Curves()
    {
        var runs = RunsFolder();
        var ids = new Argument<string[]>("run-ids") { Description = "Runs to plot (default: every run folder with TensorBoard logs).", Arity = ArgumentArity.ZeroOrMore };
        var tag = new Option<string>("--tag") { Description = "Scalar to plot.", DefaultValueFactory = _ => TrainingScalars.GroundTruthReturn };
        var output = RequiredOutput("PNG to write (a CSV goes beside it).");
        var hold = new Option<double?>("--hold") { Description = "Also say, per run, whether the curve stayed at or above this level from the step it first reached it to its end (e.g. 0.95 with --tag rollout/success_rate)." };
        var command = new Command("curves", "Learning curves of runs from their TensorBoard logs.") { ids, runs, tag, output, hold };
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var root = parse.GetValue(runs)!.FullName;
            var logs = RunLogFolders(root);
            var chosen = parse.GetValue(ids) is { Length: > 0 } named ? named : logs.Keys.Order(StringComparer.Ordinal).ToArray();
            var series = new List<Series>();
            foreach (var id in chosen)
            {
                var scalars = TensorBoardReader.ReadScalars(logs.GetValueOrDefault(id) ?? Path.Combine(root, id, "tensorboard"));
                if (!scalars.TryGetValue(parse.GetValue(tag)!, out var points)) continue;
                series.Add(new Series(id, points.Select(p => (double)p.Step).ToArray(), points.Select(p => (double)p.Value).ToArray()));
            }
            if (series.Count == 0) throw new InvalidDataException($"No run under {root} logged '{parse.GetValue(tag)}'.");
            var (title, axis) = TrainingScalars.Describe(parse.GetValue(tag)!);
            EvaluationPlots.LearningCurves(parse.GetValue(output)!.FullName, title, axis, series);
            AnsiConsole.MarkupLine($"Learning curves of {series.Count} run(s): [blue]{Markup.Escape(parse.GetValue(output)!.FullName)}[/] (+ .csv)");
            if (parse.GetValue(hold) is not { } level) return 0;
            var holds = series.Select(s => CurveHold.Measure(s, level)).ToList();
            foreach (var h in holds) AnsiConsole.WriteLine(h.ToString());
            AnsiConsole.WriteLine($"{holds.Count(h => h.Held)} of {holds.Count} run(s) held {level:G3} from first reaching it to the end.");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Each run's TensorBoard folder by run id, in both layouts: <c>vlmrm train</c> writes <c>&lt;runs&gt;/&lt;id&gt;/tensorboard</c>,
    /// the cluster <c>&lt;runs&gt;/tensorboard/&lt;id&gt;</c>.
    /// </summary>
    private static Dictionary<string, string> RunLogFolders(string root)
    {
        var folders = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(root)) return folders;
        foreach (var run in Directory.GetDirectories(root))
        {
            if (Directory.Exists(Path.Combine(run, "tensorboard"))) folders[Path.GetFileName(run)] = Path.Combine(run, "tensorboard");
        }
        var cluster = Path.Combine(root, "tensorboard");
        if (Directory.Exists(cluster))
        {
            foreach (var run in Directory.GetDirectories(cluster)) folders[Path.GetFileName(run)] = run;
        }
        return folders;
    }

    /// <summary>A verb that scores a labelled set with one CLIP model and the task's (or the given) prompts.</summary>
    private static Command OnLabelledSet(string name, string description, Option[] options, Func<ParseResult, LabelledSet, OnnxClipModel, SetEmbeddings, RewardPrompts, int> body)
    {
        var (set, clip, prompts) = (SetOption(), new ClipOptions(), new PromptOptions());
        var command = new Command(name, description) { set };
        foreach (var option in options) command.Options.Add(option);
        clip.AddTo(command);
        prompts.AddTo(command);
        command.SetAction(parse => UserErrors.Report(() =>
        {
            var labelled = LabelledSet.Load(parse.GetValue(set)!.FullName);
            using var model = clip.Load(parse);
            return body(parse, labelled, model, Embed(labelled, model), prompts.Get(parse, labelled.Manifest.Env, labelled.Manifest.Task));
        }));
        return command;
    }

    internal static SetEmbeddings Embed(LabelledSet set, OnnxClipModel model)
    {
        var embeddings = WithProgress($"embedding {set.Count} frames ({model.Folder.Name})", set.Count, p => EmbeddingCache.GetOrCompute(set, model, p));
        if (embeddings.FromCache) AnsiConsole.MarkupLine($"[grey]Image embeddings from the cache ({Markup.Escape(EmbeddingCache.PathFor(set, model))}).[/]");
        return embeddings;
    }

    internal static T WithProgress<T>(string what, int total, Func<IProgress<int>, T> work)
    {
        T result = default!;
        Output.ForConsole().Progress(what, Math.Max(1, total), 0, report => result = work(new SynchronousProgress<int>(v => report(v, ""))));
        return result;
    }

    internal static Option<FileInfo> RequiredOutput(string description) => new("--out") { Description = description, Required = true };

    internal static Option<DirectoryInfo> RunsFolder() => new("--runs") { Description = "Folder of run outputs (as `vlmrm train` writes them).", DefaultValueFactory = _ => new DirectoryInfo("runs") };

    private static Option<DirectoryInfo> SetOption() => new("--set") { Description = "A labelled set folder (vlmrm evaluate make-set / rollout-set / export-labels).", Required = true };

    private static Option<string> AlphasOption() => new("--alphas") { Description = "Comma-separated α values.", DefaultValueFactory = _ => string.Join(',', PaperAlphas.Select(a => a.ToString(CultureInfo.InvariantCulture))) };

    internal static float[] ParseAlphas(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(a => float.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= 1 ? v : throw new ArgumentException($"--alphas: '{a}' is not a number in [0, 1]."))
        .ToArray();
}
