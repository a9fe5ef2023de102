using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace VlmRm.Rl.Presets;

/// <summary>
/// A sweep file: tasks × seeds × CLIP models × α, each combination one run of Algorithm 1
/// (paper section 4.4's scaling study). Ground-truth runs ignore models and α.
/// </summary>
public sealed record SweepSpec
{
    public string Name { get; init; } = "";
    public List<SweepTask> Tasks { get; init; } = [];
    public List<int> Seeds { get; init; } = [0];
    public List<string> Models { get; init; } = [];
    public List<float> Alphas { get; init; } = [];

    /// <summary>Runs training at once across the cluster.</summary>
    public int MaxConcurrent { get; init; } = 2;

    /// <summary>Overrides applied to every run.</summary>
    public long? TotalTimesteps { get; init; }

    public string? Labeller { get; init; }
    public long? CheckpointInterval { get; init; }

    /// <summary>The runs this sweep stands for, each with its id and validated configuration.</summary>
    public IReadOnlyList<SweepRun> Expand(string source)
    {
        var runs = new List<SweepRun>();
        foreach (var task in Tasks)
        {
            var baseConfig = RunConfigLoader.LoadFile(task.Preset);
            var labeller = Labeller ?? baseConfig.Reward.Labeller;
            var models = labeller == "clip" ? (Models.Count > 0 ? Models : [baseConfig.Reward.Model!]) : ["-"];
            var alphas = labeller == "clip" ? (Alphas.Count > 0 ? Alphas : [baseConfig.Reward.Alpha]) : [float.NaN];
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
                            Reward = labeller == "clip"
                                ? baseConfig.Reward with { Labeller = labeller, Model = model, Alpha = alpha }
                                : baseConfig.Reward with { Labeller = labeller },
                        };
                        RunConfigLoader.Validate(config, $"{source} (task {task.Name})");
                        var id = labeller == "clip"
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
        return Parse(File.ReadAllText(path), path);
    }

    public static SweepSpec Parse(string yaml, string source)
    {
        SweepSpec spec;
        try
        {
            spec = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build().Deserialize<SweepSpec?>(yaml)
                   ?? throw new InvalidDataException($"{source}: the sweep file is empty.");
        }
        catch (YamlException e)
        {
            var message = e.Message.Contains("Property '", StringComparison.Ordinal)
                ? $"unknown key '{e.Message.Split('\'')[1]}'"
                : e.InnerException?.Message ?? e.Message;
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: {message}", e);
        }
        if (string.IsNullOrWhiteSpace(spec.Name) || spec.Name.IndexOfAny(['/', '\\', ' ']) >= 0) throw new InvalidDataException($"{source}: name: a sweep needs a name without spaces or slashes.");
        if (spec.Tasks.Count == 0) throw new InvalidDataException($"{source}: tasks: a sweep needs at least one task (name + preset).");
        if (spec.Seeds.Count == 0) throw new InvalidDataException($"{source}: seeds: at least one seed.");
        if (spec.MaxConcurrent < 1) throw new InvalidDataException($"{source}: max_concurrent: must be at least 1.");
        foreach (var task in spec.Tasks)
        {
            if (string.IsNullOrWhiteSpace(task.Name) || string.IsNullOrWhiteSpace(task.Preset)) throw new InvalidDataException($"{source}: tasks: each task needs a name and a preset.");
        }
        return spec;
    }
}

public sealed record SweepTask
{
    public string Name { get; init; } = "";

    /// <summary>A preset name or a run configuration file.</summary>
    public string Preset { get; init; } = "";
}

/// <summary>One run of a sweep.</summary>
public sealed record SweepRun(string RunId, string Task, string Model, float Alpha, int Seed, RunConfig Config);
