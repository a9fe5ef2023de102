using VlmRm.Envs;
using VlmRm.Envs.Mujoco;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace VlmRm.Rl.Presets;

/// <summary>Reads run configurations from YAML, strictly: unknown or ill-typed keys are errors naming file, line and key.</summary>
public static class RunConfigLoader
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

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
        return Parse(File.ReadAllText(path), path);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
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
        RunConfig config;
        try
        {
            config = Deserializer.Deserialize<RunConfig?>(yaml) ?? throw new InvalidDataException($"{source}: the file is empty.");
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: {Describe(e)}", e);
        }
        Validate(config, source);
        return config;
    }

    private static string Describe(YamlException e)
    {
        var message = (e.InnerException?.Message ?? e.Message).Replace("YamlDotNet.", "", StringComparison.Ordinal);
        const string marker = "Property '";
        var start = e.Message.IndexOf(marker, StringComparison.Ordinal);
        if (start >= 0)
        {
            var end = e.Message.IndexOf('\'', start + marker.Length);
            return $"unknown key '{e.Message[(start + marker.Length)..end]}'";
        }
        return message.Contains("Exception during deserialization", StringComparison.Ordinal) && e.InnerException is { } inner
            ? $"bad value ({inner.Message})"
            : message;
    }

    /// <summary>Checks a configuration built or changed in code (e.g. by command-line overrides) as strictly as a loaded one.</summary>
    public static void Validate(RunConfig c, string source)
    {
        void Fail(string key, string problem) => throw new InvalidDataException($"{source}: {key}: {problem}");
        if (!EnvRegistry.Ids.Contains(c.Env, StringComparer.OrdinalIgnoreCase)) Fail("env", $"unknown environment '{c.Env}'; known: {string.Join(", ", EnvRegistry.Ids.Order())}");
        if (c.Algorithm is not ("sac" or "dqn")) Fail("algorithm", $"'{c.Algorithm}' is not sac or dqn");
        if (c.Algorithm == "sac" && c.Dqn is not null) Fail("dqn", "given for a sac run");
        if (c.Algorithm == "dqn" && c.Sac is not null) Fail("sac", "given for a dqn run");
        if (c.TotalTimesteps <= 0) Fail("total_timesteps", "must be positive");
        if (c.NumEnvs <= 0) Fail("num_envs", "must be positive");
        if (c.EpisodeLength is <= 0) Fail("episode_length", "must be positive");
        if (c.CheckpointInterval < 0) Fail("checkpoint_interval", "must not be negative");
        if (c.KeepCheckpoints < 0) Fail("keep_checkpoints", "must not be negative (0 keeps every checkpoint)");
        if (c.Device is not ("auto" or "cpu" or "cuda")) Fail("device", $"'{c.Device}' is not auto, cpu or cuda");
        if (c.OffPolicy.BatchSize <= 0 || c.OffPolicy.BufferSize <= 0) Fail(c.Algorithm, "batch_size and buffer_size must be positive");
        if (c.OffPolicy.TrainFreq <= 0 || c.OffPolicy.GradientSteps < 0) Fail(c.Algorithm, "train_freq must be positive and gradient_steps not negative");
        if (c.OffPolicy.LearningRateSchedule is not ("constant" or "linear")) Fail($"{c.Algorithm}.learning_rate_schedule", $"'{c.OffPolicy.LearningRateSchedule}' is not constant or linear");
        var reward = c.Reward;
        if (reward.Labeller is not ("ground_truth" or "clip")) Fail("reward.labeller", $"'{reward.Labeller}' is not ground_truth or clip");
        if (reward.BatchSize <= 0) Fail("reward.batch_size", "must be positive");
        if (reward.Alpha is < 0 or > 1 || float.IsNaN(reward.Alpha)) Fail("reward.alpha", $"{reward.Alpha} is not in [0, 1]");
        if (reward.Labeller == "clip")
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
        if (env.SuccessPose is { } pose && !Enum.TryParse<HumanoidPose>(pose, ignoreCase: true, out _))
        {
            Fail("env_options.success_pose", $"'{pose}' is not {string.Join(" or ", Enum.GetNames<HumanoidPose>().Select(n => n.ToLowerInvariant()))}");
        }
        var humanoidOnly = env.Camera is not null || env.RenderFlags is not null || env.SuccessPose is not null || env.ModelPath is not null;
        if (humanoidOnly && !c.Env.Equals("Humanoid", StringComparison.OrdinalIgnoreCase)) Fail("env_options", $"camera, render_flags, success_pose and model_path apply to the Humanoid, not to {c.Env}");
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
