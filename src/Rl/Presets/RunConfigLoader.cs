using VlmRm.Envs;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Labelling;

namespace VlmRm.Rl.Presets;

/// <summary>Reads run configurations from YAML, strictly: unknown or ill-typed keys are errors naming file, line and key.</summary>
public static class RunConfigLoader
{
    /// <summary>Preset folder shipped with the repository (presets/).</summary>
    public static string PresetsDirectory { get; } = FindPresets();

    public static RunConfig LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            var preset = Path.Combine(PresetsDirectory, path.EndsWith(".yaml", StringComparison.Ordinal) ? path : path + ".yaml");
            if (!File.Exists(preset))
            {
                var known = Directory.Exists(PresetsDirectory) ? string.Join(", ", Directory.GetFiles(PresetsDirectory, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order()) : "none";
                throw new FileNotFoundException($"Run configuration '{path}' not found (as a file, or as a preset; presets: {known}).", path);
            }
            path = preset;
        }
        return Parse(ConfigYaml.ReadText(path), path);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    /// <summary>A configuration as JSON, to hand a run to another process or grain.</summary>
    public static string ToJson(RunConfig config) => System.Text.Json.JsonSerializer.Serialize(config, Json);

    public static RunConfig FromJson(string json, string source)
    {
        var config = System.Text.Json.JsonSerializer.Deserialize<RunConfig>(json, Json) ?? throw new InvalidDataException($"{source}: empty run configuration.");
        Validate(config, source);
        return config;
    }

    public static RunConfig Parse(string yaml, string source = "<yaml>")
    {
        var config = ConfigYaml.Deserialize<RunConfig>(yaml, source, "the file is empty.");
        Validate(config, source);
        return config;
    }

    /// <summary>Checks a configuration built or changed in code (e.g. by command-line overrides) as strictly as a loaded one.</summary>
    public static void Validate(RunConfig c, string source)
    {
        [System.Diagnostics.CodeAnalysis.DoesNotReturn] void Fail(string key, string problem) => throw new InvalidDataException($"{source}: {key}: {problem}");
        if (!EnvRegistry.Ids.Contains(c.Env, StringComparer.OrdinalIgnoreCase)) Fail("env", $"unknown environment '{c.Env}'; known: {string.Join(", ", EnvRegistry.Ids.Order())}");
        var algorithm = ConfigSpelling.Of(c.Algorithm);
        if (c.Algorithm == AlgorithmKind.Sac && c.Dqn is not null) Fail("dqn", "given for a sac run");
        if (c.Algorithm == AlgorithmKind.Dqn && c.Sac is not null) Fail("sac", "given for a dqn run");
        if (c.TotalTimesteps <= 0) Fail("total_timesteps", "must be positive");
        if (c.NumEnvs <= 0) Fail("num_envs", "must be positive");
        if (c.EpisodeLength is <= 0) Fail("episode_length", "must be positive");
        if (c.CheckpointInterval < 0) Fail("checkpoint_interval", "must not be negative");
        if (c.KeepCheckpoints < 0) Fail("keep_checkpoints", "must not be negative (0 keeps every checkpoint)");
        if (c.OffPolicy.BatchSize <= 0 || c.OffPolicy.BufferSize <= 0) Fail(algorithm, "batch_size and buffer_size must be positive");
        if (c.OffPolicy.TrainFreq <= 0 || c.OffPolicy.GradientSteps < 0) Fail(algorithm, "train_freq must be positive and gradient_steps not negative");
        var reward = c.Reward;
        if (reward.BatchSize <= 0) Fail("reward.batch_size", "must be positive");
        if (reward.Alpha is < 0 or > 1 || float.IsNaN(reward.Alpha)) Fail("reward.alpha", $"{reward.Alpha} is not in [0, 1]");
        if (reward.Goal is null || reward.Baseline is null) Fail("reward.goal", "goal and baseline are lists of prompts ([a, b], or one '- prompt' per line), not empty values");
        if (reward.Labelling == LabellingScheduleKind.Overlapped && reward.Labeller != LabellerKind.Clip)
        {
            Fail("reward.labelling", $"overlapped labelling needs labeller: clip; {ConfigSpelling.Of(reward.Labeller)} rewards are read from the environment, with nothing to overlap (use synchronous)");
        }
        if (reward.KeepEmbeddings && reward.Labeller != LabellerKind.Clip)
        {
            Fail("reward.keep_embeddings", $"only a CLIP reward has image embeddings to keep; {ConfigSpelling.Of(reward.Labeller)} rewards are read from the environment");
        }
        if (reward.EmbeddingLog && !reward.KeepEmbeddings) Fail("reward.embedding_log", "the log stores the embeddings the run keeps: it needs keep_embeddings: true");
        if (reward.Schedule is { Count: > 0 } schedule)
        {
            if (reward.Labeller != LabellerKind.Clip || !reward.KeepEmbeddings)
            {
                Fail("reward.schedule", "a reward that changes during the run re-rewards its replay buffer from stored embeddings: it needs labeller: clip and keep_embeddings: true");
            }
            for (var i = 0; i < schedule.Count; i++)
            {
                var change = schedule[i];
                if (change.At <= (i == 0 ? 0 : schedule[i - 1].At) || change.At >= c.TotalTimesteps)
                {
                    Fail($"reward.schedule[{i}].at", $"{change.At}: steps must increase, after 0 and before total_timesteps ({c.TotalTimesteps})");
                }
                if (change.Alpha is { } a && !(a >= 0 && a <= 1)) Fail($"reward.schedule[{i}].alpha", $"{a} is not in [0, 1]");
                if (change.Goal is { Count: 0 } || change.Baseline is { Count: 0 }) Fail($"reward.schedule[{i}]", "an empty prompt list; leave goal or baseline out to keep the ones before");
                if (change is { Goal: null, Baseline: null, Alpha: null }) Fail($"reward.schedule[{i}]", "changes nothing: give goal, baseline and/or alpha");
            }
        }
        if (reward.Labeller == LabellerKind.Clip)
        {
            if (string.IsNullOrWhiteSpace(reward.Model)) Fail("reward.model", "a CLIP run names its model (e.g. ViT-B-32/openai)");
            if (reward.Goal.Count == 0) Fail("reward.goal", "a CLIP run needs at least one goal prompt");
            if (reward.Baseline.Count == 0) Fail("reward.baseline", "a CLIP run needs at least one baseline prompt");
            if (reward.FrameWidth is < 8 or > 4096 || reward.FrameHeight is < 8 or > 4096) Fail("reward.frame_width", $"{reward.FrameWidth}×{reward.FrameHeight}: frames are 8×8 to 4096×4096");
        }
        var env = c.EnvOptions;
        if (env.RenderWidth is < 8 or > 4096 || env.RenderHeight is < 8 or > 4096) Fail("env_options.render_width", $"{env.RenderWidth}×{env.RenderHeight}: frames are 8×8 to 4096×4096");
        if (env.Camera?.LookAt is { Count: not 3 } lookAt) Fail("env_options.camera.look_at", $"{lookAt.Count} numbers given; a look-at point is [x, y, z]");
        if (env.Camera is { } camera && (camera.Distance is <= 0 || new[] { camera.Distance, camera.Azimuth, camera.Elevation }.Concat(camera.LookAt?.Select(v => (double?)v) ?? []).Any(v => v is { } x && !double.IsFinite(x))))
        {
            Fail("env_options.camera", "distance must be positive and every value a finite number");
        }
        var humanoidOnly = env.Camera is not null || env.RenderFlags is not null || env.SuccessPose is not null || env.ModelPath is not null || env.RenderBackend is not null;
        if (humanoidOnly && !c.Env.Equals("Humanoid", StringComparison.OrdinalIgnoreCase)) Fail("env_options", $"camera, render_flags, render_backend, success_pose and model_path apply to the Humanoid, not to {c.Env}");
        if (env.ModelPath is { } model && !File.Exists(model)) Fail("env_options.model_path", $"no MJCF file at {Path.GetFullPath(model)}");
        if (env.AssetsDirectory is { } assets && !Directory.Exists(assets)) Fail("env_options.assets_directory", $"no folder at {Path.GetFullPath(assets)}");
    }

    private static string FindPresets()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "presets");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "VlmRm.sln"))) return candidate;
        }
        return Path.Combine(AppContext.BaseDirectory, "presets");
    }
}
