using VlmRm.Envs.Mujoco;
using VlmRm.Rl.Labelling;

namespace VlmRm.Rl.Presets;

/// <summary>
/// A sweep file: tasks × seeds × CLIP models × α, each combination one run of Algorithm 1
/// (paper section 4.4's scaling study). Ground-truth runs ignore models and α.
/// </summary>
public sealed record SweepSpec
{
    public string Name { get; init; } = "";

    /// <summary>The preset of every task that names none: one line switches a sweep between presets (a miniature and the paper's settings).</summary>
    public string? Preset { get; init; }

    public List<SweepTask> Tasks { get; init; } = [];
    public List<int> Seeds { get; init; } = [0];
    public List<string> Models { get; init; } = [];
    public List<float> Alphas { get; init; } = [];

    /// <summary>Runs training at once across the cluster.</summary>
    public int MaxConcurrent { get; init; } = 2;

    /// <summary>Overrides applied to every run.</summary>
    public long? TotalTimesteps { get; init; }

    public LabellerKind? Labeller { get; init; }
    public long? CheckpointInterval { get; init; }

    /// <summary>
    /// env_options.assets_directory for every run (the paper's textured humanoid and MountainCar), relative to the
    /// working directory; null keeps each preset's.
    /// </summary>
    public string? AssetsDirectory { get; init; }

    /// <summary>A reward.schedule for every CLIP run (its α or prompts change at those steps); implies keep_embeddings.</summary>
    public List<RewardChangeAt>? RewardSchedule { get; init; }

    /// <summary>The runs this sweep stands for, each with its id and validated configuration.</summary>
    public IReadOnlyList<SweepRun> Expand(string source)
    {
        var runs = new List<SweepRun>();
        foreach (var task in Tasks)
        {
            var preset = task.Preset ?? Preset!;
            var presetConfig = RunConfigLoader.LoadFile(preset);
            var baseConfig = presetConfig with
            {
                EnvOptions = presetConfig.EnvOptions with
                {
                    SuccessPose = task.SuccessPose ?? presetConfig.EnvOptions.SuccessPose,
                    AssetsDirectory = AssetsDirectory is { } assets ? Path.GetFullPath(assets) : presetConfig.EnvOptions.AssetsDirectory,
                },
                Reward = presetConfig.Reward with
                {
                    Goal = task.Goal ?? presetConfig.Reward.Goal,
                    Baseline = task.Baseline ?? presetConfig.Reward.Baseline,
                },
            };
            var labeller = Labeller ?? baseConfig.Reward.Labeller;
            var models = labeller == LabellerKind.Clip ? (Models.Count > 0 ? Models : [baseConfig.Reward.Model!]) : ["-"];
            var alphas = labeller == LabellerKind.Clip ? (Alphas.Count > 0 ? Alphas : [baseConfig.Reward.Alpha]) : [float.NaN];
            foreach (var model in models)
            {
                foreach (var alpha in alphas)
                {
                    foreach (var seed in Seeds)
                    {
                        var config = baseConfig with
                        {
                            Seed = seed,
                            TotalTimesteps = TotalTimesteps ?? baseConfig.TotalTimesteps,
                            CheckpointInterval = CheckpointInterval ?? baseConfig.CheckpointInterval,
                            Reward = labeller == LabellerKind.Clip
                                ? baseConfig.Reward with
                                {
                                    Labeller = labeller, Model = model, Alpha = alpha,
                                    Schedule = RewardSchedule ?? baseConfig.Reward.Schedule,
                                    KeepEmbeddings = baseConfig.Reward.KeepEmbeddings || RewardSchedule is { Count: > 0 },
                                }
                                : baseConfig.Reward with { Labeller = labeller },
                        };
                        RunConfigLoader.Validate(config, $"{source} (task {task.Name})");
                        var id = labeller == LabellerKind.Clip
                            ? $"{Name}.{task.Name}.{model.Replace('/', '_')}.a{alpha:0.##}.s{seed}"
                            : $"{Name}.{task.Name}.gt.s{seed}";
                        runs.Add(new SweepRun(id.Replace(' ', '_'), task.Name, model, alpha, seed, config));
                    }
                }
            }
        }
        return runs;
    }

    public static SweepSpec LoadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Sweep file not found: {path}", path);
        return Parse(ConfigYaml.ReadText(path), path);
    }

    public static SweepSpec Parse(string yaml, string source)
    {
        var spec = ConfigYaml.Deserialize<SweepSpec>(yaml, source, "the sweep file is empty.");
        if (string.IsNullOrWhiteSpace(spec.Name) || spec.Name.IndexOfAny(['/', '\\', ' ']) >= 0) throw new InvalidDataException($"{source}: name: a sweep needs a name without spaces or slashes.");
        if (spec.Tasks is null || spec.Tasks.Count == 0) throw new InvalidDataException($"{source}: tasks: a sweep needs at least one task (name + preset).");
        if (spec.Models is null || spec.Alphas is null) throw new InvalidDataException($"{source}: models and alphas are lists ([a, b]), left out when not swept; not empty values.");
        if (spec.Seeds is null || spec.Seeds.Count == 0) throw new InvalidDataException($"{source}: seeds: at least one seed.");
        if (spec.MaxConcurrent < 1) throw new InvalidDataException($"{source}: max_concurrent: must be at least 1.");
        foreach (var task in spec.Tasks)
        {
            if (task is null || string.IsNullOrWhiteSpace(task.Name)) throw new InvalidDataException($"{source}: tasks: each task needs a name.");
            if (string.IsNullOrWhiteSpace(task.Preset ?? spec.Preset)) throw new InvalidDataException($"{source}: tasks: task {task.Name} needs a preset (its own, or the sweep's preset).");
            if (task.Goal is { Count: 0 } || task.Baseline is { Count: 0 }) throw new InvalidDataException($"{source}: tasks: task {task.Name}: goal and baseline, when given, need at least one prompt.");
        }
        return spec;
    }
}

public sealed record SweepTask
{
    public string Name { get; init; } = "";

    /// <summary>A preset name or a run configuration file; null takes the sweep's.</summary>
    public string? Preset { get; init; }

    /// <summary>Humanoid: the task whose pose predicate is the runs' success flag (env_options.success_pose).</summary>
    public HumanoidPose? SuccessPose { get; init; }

    /// <summary>The goal prompts of the task's runs (reward.goal); null keeps the preset's.</summary>
    public List<string>? Goal { get; init; }

    /// <summary>The baseline prompts (reward.baseline); null keeps the preset's.</summary>
    public List<string>? Baseline { get; init; }
}

/// <summary>One run of a sweep.</summary>
public sealed record SweepRun(string RunId, string Task, string Model, float Alpha, int Seed, RunConfig Config);
