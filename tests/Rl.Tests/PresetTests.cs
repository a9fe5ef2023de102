using VlmRm.Envs.Mujoco;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

public class PresetTests
{
    public static TheoryData<string> Presets()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RunConfigLoader.PresetsDirectory, "*.yaml")) data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_shipped_preset_loads(string name)
    {
        var config = RunConfigLoader.LoadFile(name);
        Assert.True(config.TotalTimesteps > 0);
    }

    [Fact]
    public void Presets_carry_the_papers_hyperparameters()
    {
        var cartpole = RunConfigLoader.LoadFile("cartpole-dqn");
        Assert.Equal((3_000_000L, 200, 64_000L), (cartpole.TotalTimesteps, cartpole.EpisodeLength!.Value, cartpole.CheckpointInterval));
        Assert.Equal((75_000, 200, 200, 2.3e-3), (cartpole.Dqn!.LearningStarts, cartpole.Dqn.TrainFreq, cartpole.Dqn.GradientSteps, cartpole.Dqn.LearningRate));
        Assert.Equal([256, 256], cartpole.Dqn.NetArch);
        Assert.Equal(["pole vertically upright on top of the cart"], cartpole.Reward.Goal);

        var mountainCar = RunConfigLoader.LoadFile("mountaincar-sac");
        Assert.Equal((0.01, 0.9999, 1e-4, "0.1"), (mountainCar.Sac!.Tau, mountainCar.Sac.Gamma, mountainCar.Sac.LearningRate, mountainCar.Sac.EntCoef));
        Assert.Equal([64, 64], mountainCar.Sac.NetArch);
    }

    [Theory]
    [InlineData(0, 2e-3)]
    [InlineData(250, 1.5e-3)]
    [InlineData(1000, 0)]
    [InlineData(1200, 0)]
    public void A_linear_learning_rate_falls_to_zero_at_the_end_of_the_run(long timesteps, double expected)
    {
        var linear = new Algorithms.DqnOptions { LearningRate = 2e-3, LearningRateSchedule = Algorithms.LearningRateSchedule.Linear };
        Assert.Equal(expected, linear.LearningRateAt(timesteps, 1000), 1e-15);
        Assert.Equal(2e-3, (linear with { LearningRateSchedule = Algorithms.LearningRateSchedule.Constant }).LearningRateAt(timesteps, 1000));
    }

    [Fact]
    public void Unknown_key_names_file_line_and_key()
    {
        const string yaml = "env: CartPole\nalgorithm: dqn\ndqn:\n  learning_rat: 0.1\n";
        var error = Assert.Throws<InvalidDataException>(() => RunConfigLoader.Parse(yaml, "my.yaml"));
        Assert.StartsWith("my.yaml:4:", error.Message);
        Assert.Contains("unknown key 'learning_rat'", error.Message);
    }

    [Fact]
    public void Ill_typed_value_names_file_and_line()
    {
        var error = Assert.Throws<InvalidDataException>(() => RunConfigLoader.Parse("env: CartPole\ntotal_timesteps: lots\n", "bad.yaml"));
        Assert.StartsWith("bad.yaml:2:", error.Message);
    }

    [Theory]
    [InlineData("env: Pong\n", "env: unknown environment 'Pong'")]
    [InlineData("algorithm: ppo\n", "algorithm: 'ppo' is not dqn or sac")]
    [InlineData("algorithm: sac\ndqn:\n  batch_size: 3\n", "dqn: given for a sac run")]
    [InlineData("reward:\n  labeller: clip\n", "reward.model: a CLIP run names its model")]
    [InlineData("reward:\n  alpha: 1.5\n", "reward.alpha: 1.5 is not in [0, 1]")]
    [InlineData("algorithm: dqn\ndqn:\n  learning_rate_schedule: cosine\n", "dqn.learning_rate_schedule: 'cosine' is not constant or linear")]
    [InlineData("", "the file is empty")]
    [InlineData("env: CartPole\nenv_options:\n  success_pose: kneeling\n", "env_options: camera, render_flags, render_backend, success_pose and model_path apply to the Humanoid, not to CartPole")]
    [InlineData("env: Humanoid\nalgorithm: sac\nenv_options:\n  success_pose: lotus\n", "env_options.success_pose: 'lotus' is not kneeling, lotus_position, standing, arms_raised, doing_splits, hands_on_hips, arms_crossed or standing_on_one_leg")]
    [InlineData("env: Humanoid\nalgorithm: sac\nenv_options:\n  camera:\n    look_at: [0, 1]\n", "env_options.camera.look_at: 2 numbers given")]
    [InlineData("env: Humanoid\nalgorithm: sac\nenv_options:\n  camera:\n    distance: -1\n", "env_options.camera: distance must be positive")]
    [InlineData("env: Humanoid\nalgorithm: sac\nenv_options:\n  model_path: /no/such/humanoid.xml\n", "env_options.model_path: no MJCF file at /no/such/humanoid.xml")]
    [InlineData("device: gpu\n", "x.yaml:1:9: device: 'gpu' is not auto, cpu or cuda")]
    [InlineData("reward:\n  labeller: CLIP_score\n", "x.yaml:2:13: reward.labeller: 'CLIP_score' is not ground_truth or clip")]
    [InlineData("total_timesteps: lots\n", "x.yaml:1:18: total_timesteps: 'lots' is not a whole number")]
    [InlineData("num_envs: 99999999999\n", "x.yaml:1:11: num_envs: '99999999999' is out of range for a whole number (at most 2147483647)")]
    [InlineData("reward:\n  labeller: clip\n  goal: pole upright\n", "x.yaml:3:9: reward.goal: 'pole upright' is not a list of texts ([a, b], or one '- item' per line)")]
    [InlineData("reward:\n  goal:\n    - text: pole upright\n", "x.yaml:3:7: reward.goal: a section of keys is not text")]
    [InlineData("dqn:\n  net_arch: 64\n", "x.yaml:2:13: dqn.net_arch: '64' is not a list of whole numbers")]
    [InlineData("reward: clip\n", "x.yaml:1:9: reward: 'clip' is not a section of keys (labeller, model, goal")]
    [InlineData("env: CartPole\nenv: MountainCar\n", "x.yaml:2:1: key 'env' is given twice")]
    [InlineData("sac:\n  learning_rate: 1e-3\n  learning_rate: 3e-4\n", "x.yaml:3:3: sac: key 'learning_rate' is given twice")]
    [InlineData("reward:\n  goal: [pole upright, \n", "x.yaml:3:1: YAML syntax: ")]
    [InlineData("reward:\n  goal: ~\n", "reward.goal: goal and baseline are lists of prompts")]
    [InlineData("- env: CartPole\n", "x.yaml:1:1: a list is not a section of keys (env, algorithm,")]
    [InlineData("env_options:\n  render_widht: 96\n", "env_options: unknown key 'render_widht'; known keys here: render_width, render_height,")]
    [InlineData("env_options:\n  render_width: 100000\n", "env_options.render_width: 100000×: frames are 8×8 to 4096×4096")]
    public void Invalid_values_are_clear_errors(string yaml, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => RunConfigLoader.Parse(yaml, "x.yaml")).Message);
    }

    [Fact]
    public void Unknown_preset_lists_the_known_ones()
    {
        var error = Assert.Throws<FileNotFoundException>(() => RunConfigLoader.LoadFile("no-such-preset"));
        Assert.Contains("cartpole-dqn", error.Message);
    }

    public static TheoryData<string> Sweeps()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RunConfigLoader.PresetsDirectory, "..", "sweeps"), "*.yaml")) data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_shipped_preset_plans_at_its_real_sizes(string name)
    {
        var plan = RunPlan.For(RunConfigLoader.LoadFile(name), name);
        AssertFits(plan);
    }

    [Theory]
    [MemberData(nameof(Sweeps))]
    public void Every_run_of_every_shipped_sweep_plans_at_its_real_sizes(string file)
    {
        var path = Path.Combine(RunConfigLoader.PresetsDirectory, "..", "sweeps", file);
        var runs = SweepSpec.LoadFile(path).Expand(path);
        Assert.NotEmpty(runs);
        foreach (var run in runs) AssertFits(RunPlan.For(run.Config, run.RunId));
    }

    private static void AssertFits(RunPlan plan)
    {
        Assert.True(plan.LabelBatch > 0);
        foreach (var layout in new[] { plan.UnlabelledFrames, plan.LabellingMessages }.OfType<FrameChunkLayout>())
        {
            Assert.Equal((long)plan.LabelBatch * plan.Env.FrameBytes, layout.TotalBytes);
            Assert.Equal(plan.LabelBatch, Enumerable.Range(0, layout.Chunks).Sum(layout.FramesInChunk));
            Assert.All(Enumerable.Range(0, layout.Chunks), c => Assert.InRange((long)layout.FramesInChunk(c) * plan.Env.FrameBytes, 1, Math.Min(layout.ChunkBytes, Array.MaxLength)));
        }
        Assert.True(plan.LabellingMessages is null || plan.LabellingMessages.Value.ChunkBytes <= 100_000_000, "a message is over Orleans' 100 MB body limit");
    }

    [Fact]
    public void Humanoid_preset_plans_the_papers_batch_over_2_GiB_in_chunks_with_its_camera_and_task()
    {
        var config = RunConfigLoader.LoadFile("humanoid-sac");
        var plan = RunPlan.For(config, "humanoid-sac");
        Assert.Equal(3200, plan.LabelBatch);
        var frames = plan.UnlabelledFrames!.Value;
        Assert.Equal(3200L * 480 * 480 * 3, frames.TotalBytes); // 2.2 GB: over int and over .NET's array limit
        Assert.True(frames.TotalBytes > int.MaxValue);
        Assert.Equal(9, frames.Chunks); // 388 frames of 691,200 bytes per 256 MiB
        Assert.Equal(34, plan.LabellingMessages!.Value.Chunks); // 96 frames (three steps of 32) per 64 MiB message
        // 376 observation values on the paper's model; Debian's humanoid (no assets folder given) has more bodies.
        Assert.Equal(1_000_000L * (2 * plan.Env.ObservationSize + plan.Env.ActionSize + 2) * 4, plan.CheckpointReplayBytes);
        Assert.True(plan.CheckpointReplayBytes > 3_000_000_000);

        using var env = (HumanoidEnv)Envs.EnvRegistry.Make(config.Env, config.EnvironmentOptions(config.Reward.LabellerFrames()));
        Assert.Equal(new CameraPose(0, 0, 1, 3.5, 180, -10), env.Options.Camera);
        Assert.Equal(HumanoidPose.Kneeling, env.Options.SuccessPose);
        Assert.Equal((480, 480, 100), (env.Spec.RenderWidth, env.Spec.RenderHeight, env.Spec.MaxEpisodeSteps));
        Assert.Equal(32, config.NumEnvs);
    }

    [Fact]
    public void A_plan_that_does_not_fit_names_the_setting()
    {
        var config = RunConfigLoader.LoadFile("humanoid-sac") with { Sac = RunConfigLoader.LoadFile("humanoid-sac").Sac! with { BufferSize = 10_000_000 } };
        var error = Assert.Throws<InvalidDataException>(() => RunPlan.For(config, "big.yaml"));
        var observations = RunPlan.For(RunConfigLoader.LoadFile("humanoid-sac"), "humanoid-sac").Env.ObservationSize;
        Assert.Contains("big.yaml: A replay buffer of 10,000,000 transitions", error.Message);
        Assert.Contains($"lower buffer_size to at most {Array.MaxLength / observations:N0}", error.Message);
        var tooSmall = Assert.Throws<InvalidDataException>(() => RunPlan.For(RunConfigLoader.LoadFile("humanoid-sac"), "x.yaml", messageBytes: 1000));
        Assert.Contains("cannot hold one 480×480 frame", tooSmall.Message);
    }

    [Fact]
    public void Chunked_frames_keep_every_frame_in_order_across_chunks()
    {
        var frame = new FrameSize(4, 2); // 24 bytes
        var frames = new FrameChunks(10, frame, chunkBytes: 3 * 24 + 5); // 3 frames per chunk, 4 chunks
        Assert.Equal((3, 4), (frames.Layout.FramesPerChunk, frames.Layout.Chunks));
        for (var i = 0; i < 10; i++) frames[i].Fill((byte)i);
        var runs = frames.Runs(2, 7).ToList();
        Assert.Equal([(2, 1), (3, 3), (6, 3)], runs.Select(r => (r.First, r.Count)));
        Assert.Equal(Enumerable.Range(2, 7).SelectMany(i => Enumerable.Repeat((byte)i, 24)), runs.SelectMany(r => r.Bytes.ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => frames[10].Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => frames.Runs(5, 6).ToList());
    }

    [Fact]
    public void A_labelling_batch_the_process_cannot_hold_is_refused_before_allocating()
    {
        var paperBatch = RunPlan.For(RunConfigLoader.LoadFile("humanoid-sac"), "humanoid-sac").UnlabelledFrames!.Value.TotalBytes;
        var error = Assert.Throws<InsufficientMemoryException>(() => FrameChunks.RequireMemory(paperBatch, 1L << 30));
        Assert.Contains("needs 2.21 GB for its unlabelled frames, and this process may use 1.07 GB", error.Message);
        Assert.Contains("lower reward.batch_size or reward.frame_width/frame_height", error.Message);
        FrameChunks.RequireMemory(paperBatch, 24L << 30);
    }
}
