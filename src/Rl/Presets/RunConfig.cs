using VlmRm.Envs;
using VlmRm.Envs.Mujoco;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Labelling;

namespace VlmRm.Rl.Presets;

/// <summary>
/// One training run: environment, algorithm and its hyperparameters, reward, schedule. Loaded from a
/// YAML preset (presets/*.yaml) that a user can copy and edit; keys are snake_case.
/// </summary>
public sealed record RunConfig
{
    public string Env { get; init; } = "CartPole";
    public AlgorithmKind Algorithm { get; init; } = AlgorithmKind.Dqn;
    public long TotalTimesteps { get; init; } = 100_000;

    /// <summary>Fixed episode length (the paper's envs never terminate); null keeps the environment's default.</summary>
    public int? EpisodeLength { get; init; }

    public int NumEnvs { get; init; } = 1;
    public int Seed { get; init; }

    /// <summary>Environment steps between checkpoints; 0 saves only at the end.</summary>
    public long CheckpointInterval { get; init; }

    /// <summary>Checkpoints kept: the newest this many and the best (<see cref="Checkpoints.CheckpointRetention"/>); 0 keeps all.</summary>
    public int KeepCheckpoints { get; init; }

    /// <summary>Include the labelled replay buffer in checkpoints (large; resumes exactly).</summary>
    public bool CheckpointReplayBuffer { get; init; } = true;

    /// <summary>auto (CUDA when available), cpu or cuda.</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>TorchSharp intra-op threads; 0 picks one (see docs/BENCHMARKS.md).</summary>
    public int TorchThreads { get; init; }

    /// <summary>Completed episodes averaged in the rollout statistics (SB3's stats window).</summary>
    public int StatsWindow { get; init; } = 100;

    /// <summary>Environment options: render size, paper assets.</summary>
    public EnvSection EnvOptions { get; init; } = new();

    public SacOptions? Sac { get; init; }
    public DqnOptions? Dqn { get; init; }
    public RewardSection Reward { get; init; } = new();

    /// <summary>The chosen algorithm's hyperparameters (its defaults when the file gives none).</summary>
    public OffPolicyOptions OffPolicy => Algorithm == AlgorithmKind.Sac ? Sac ?? new SacOptions() : Dqn ?? new DqnOptions();

    /// <summary>
    /// The run's environment settings, for training and for every later use of the run (evaluation, videos,
    /// labelled sets), rendering at <paramref name="frames"/> when given, else at env_options' render size.
    /// </summary>
    public EnvOptions EnvironmentOptions(FrameSize? frames = null) => new()
    {
        MaxEpisodeSteps = EpisodeLength,
        RenderWidth = frames?.Width ?? EnvOptions.RenderWidth,
        RenderHeight = frames?.Height ?? EnvOptions.RenderHeight,
        AssetsDirectory = EnvOptions.AssetsDirectory,
        ModelPath = EnvOptions.ModelPath,
        RenderFlags = EnvOptions.RenderFlags is { } f ? new RenderFlags(f.Shadows, f.Reflection, f.Skybox) : null,
        RenderBackend = EnvOptions.RenderBackend,
        Camera = EnvOptions.Camera?.ToPose(),
        SuccessPose = EnvOptions.SuccessPose,
    };
}

/// <summary>Environment settings (env_options); each environment reads the ones that apply to it.</summary>
public sealed record EnvSection
{
    public int? RenderWidth { get; init; }
    public int? RenderHeight { get; init; }
    public string? AssetsDirectory { get; init; }

    /// <summary>An MJCF file for MuJoCo environments (overrides the assets folder's model).</summary>
    public string? ModelPath { get; init; }

    /// <summary>Humanoid: the camera fixed in the world; keys left out keep the environment's default.</summary>
    public CameraSection? Camera { get; init; }

    /// <summary>Humanoid: MuJoCo's shadows, reflection and skybox.</summary>
    public RenderFlagsSection? RenderFlags { get; init; }

    /// <summary>Humanoid: how MuJoCo renders (auto prefers an EGL device, i.e. a GPU; egl; osmesa).</summary>
    public RenderBackend? RenderBackend { get; init; }

    /// <summary>Humanoid: the task whose pose predicate the success flag tests (one of the paper's eight).</summary>
    public HumanoidPose? SuccessPose { get; init; }
}

/// <summary>A free camera: look-at point (x, y, z), distance, azimuth and elevation in degrees.</summary>
public sealed record CameraSection
{
    public List<double>? LookAt { get; init; }
    public double? Distance { get; init; }
    public double? Azimuth { get; init; }
    public double? Elevation { get; init; }

    public CameraPose ToPose()
    {
        var d = new HumanoidOptions().Camera;
        return new CameraPose(LookAt?[0] ?? d.LookAtX, LookAt?[1] ?? d.LookAtY, LookAt?[2] ?? d.LookAtZ,
            Distance ?? d.Distance, Azimuth ?? d.Azimuth, Elevation ?? d.Elevation);
    }
}

public sealed record RenderFlagsSection
{
    public bool Shadows { get; init; } = true;
    public bool Reflection { get; init; } = true;
    public bool Skybox { get; init; } = true;
}

/// <summary>One entry of reward.schedule: from step <see cref="At"/> on, these prompts and α (null keeps the ones before).</summary>
public sealed record RewardChangeAt
{
    public long At { get; init; }
    public List<string>? Goal { get; init; }
    public List<string>? Baseline { get; init; }
    public float? Alpha { get; init; }
}

/// <summary>Where rewards come from (Algorithm 1's labeller) and the labelling batch B.</summary>
public sealed record RewardSection
{
    public LabellerKind Labeller { get; init; } = LabellerKind.GroundTruth;

    /// <summary>OpenCLIP name of the CLIP model (clip only).</summary>
    public string? Model { get; init; }

    public List<string> Goal { get; init; } = [];
    public List<string> Baseline { get; init; } = [];
    public float Alpha { get; init; }

    /// <summary>Algorithm 1's B: transitions gathered before one labelling call.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Whether the run waits for each batch's rewards (synchronous, the paper's order) or steps on while it is labelled (overlapped).</summary>
    public LabellingScheduleKind Labelling { get; init; } = LabellingScheduleKind.Synchronous;

    /// <summary>
    /// Keep each labelled frame's image embedding (fp16) and success flag beside its transition, in the replay buffer and
    /// its checkpoints (clip only): the run can then be re-rewarded for other prompts or α with no rendering and no image
    /// tower (vlmrm relabel, evaluate screen --run). Costs buffer_size × the model's width × 2 bytes.
    /// </summary>
    public bool KeepEmbeddings { get; init; }

    /// <summary>
    /// Also store every labelled frame's embedding for the whole run, beyond the replay buffer's window, as an embedding
    /// log in the checkpoint store (one segment per checkpoint interval; needs keep_embeddings). Costs every frame × the
    /// model's width × 2 bytes of storage (25.6 GB for the paper's Humanoid run; vlmrm plan prints it).
    /// </summary>
    public bool EmbeddingLog { get; init; }

    /// <summary>
    /// Changes of the reward during the run (beyond the paper; clip only, with keep_embeddings): from each entry's step
    /// on, the reward has that entry's prompts or α, and the replay buffer is re-rewarded from its stored embeddings then.
    /// </summary>
    public List<RewardChangeAt> Schedule { get; init; } = [];

    /// <summary>The reward in force at <paramref name="step"/>: this section with every schedule entry at or before it applied, in order.</summary>
    public RewardSection At(long step)
    {
        var reward = this;
        foreach (var change in Schedule.Where(c => c.At <= step))
        {
            reward = reward with { Goal = change.Goal ?? reward.Goal, Baseline = change.Baseline ?? reward.Baseline, Alpha = change.Alpha ?? reward.Alpha };
        }
        return reward with { Schedule = [] };
    }

    /// <summary>Frame size rendered for the labeller (clip only).</summary>
    public int FrameWidth { get; init; } = 224;

    public int FrameHeight { get; init; } = 224;

    /// <summary>The frames the labeller reads: CLIP's frame size, none for ground truth.</summary>
    public FrameSize? LabellerFrames() => Labeller == LabellerKind.Clip ? new FrameSize(FrameWidth, FrameHeight) : null;
}
