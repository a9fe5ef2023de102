namespace VlmRm.Envs.Mujoco;

/// <summary>Options for <see cref="HumanoidEnv"/>. Defaults: paper section 4.3 / appendix C.2 on Humanoid-v4's reward.</summary>
public sealed record HumanoidOptions
{
    /// <summary>Any MJCF file; null uses the paper's model from <see cref="AssetsDirectory"/> or Debian's humanoid with procedural textures.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Folder with the paper's humanoid_textured.xml and its textures (e.g. ../shared/assets/vlmrm).</summary>
    public string? AssetsDirectory { get; init; }

    /// <summary>The paper fixes episodes at 100 steps.</summary>
    public int MaxEpisodeSteps { get; init; } = 100;

    public int FrameSkip { get; init; } = 5;
    public double ResetNoiseScale { get; init; } = 1e-2;
    public double ForwardRewardWeight { get; init; } = 1.25;
    public double CtrlCostWeight { get; init; } = 0.1;
    public double HealthyReward { get; init; } = 5.0;
    public double HealthyZMin { get; init; } = 1.0;
    public double HealthyZMax { get; init; } = 2.0;

    /// <summary>The paper removes termination: kneeling and the lotus position are "unhealthy" in v4.</summary>
    public bool TerminateWhenUnhealthy { get; init; }

    /// <summary>Pose whose predicate is the step's success flag.</summary>
    public HumanoidPose SuccessPose { get; init; } = HumanoidPose.Standing;

    public int RenderWidth { get; init; } = 480;
    public int RenderHeight { get; init; } = 480;

    /// <summary>A camera fixed in the world (not the tracking camera), looking at the agent slightly from above.</summary>
    public CameraPose Camera { get; init; } = new(0, 0, 0.9, 3.5, 135, -12);

    /// <summary>
    /// The camera the paper's code is run with (presets/humanoid-sac.yaml, docs/HUMANOID.md): look-at (0, 0, 1.0),
    /// distance 3.5, azimuth 180°, elevation −10°, "pointing at the agent slightly angled down" (section 4.3).
    /// </summary>
    public static CameraPose PaperCamera { get; } = new(0, 0, 1.0, 3.5, 180, -10);

    public RenderFlags Flags { get; init; } = new();

    public RenderBackend Backend { get; init; } = RenderBackend.Auto;
}

/// <summary>
/// Gymnasium's Humanoid-v4 on MuJoCo through the shim: observation qpos (without x, y), qvel, cinert,
/// cvel, qfrc_actuator, cfrc_ext (376 values on the v4 model); actions set the controls for frame_skip
/// physics steps; reward 1.25·ẋ_com + 5·healthy − 0.1·‖a‖² as the ground truth; reset noise ±1e-2.
/// With the paper's changes: no termination, 100-step episodes, textured scene, fixed camera.
/// </summary>
public sealed class HumanoidEnv : IEnv
{
    private readonly HumanoidOptions _options;
    private readonly MujocoSimulation _sim;
    private readonly Rng _rng = new(0);
    private readonly HumanoidSkeleton _skeleton;
    private readonly double _totalMass;
    private readonly float[] _actionLow;
    private int _elapsedSteps;

    /// <summary>What this environment renders with (auto resolved).</summary>
    public RenderBackend Backend => _sim.Backend;

    public HumanoidEnv(HumanoidOptions? options = null)
    {
        _options = options ?? new HumanoidOptions();
        ModelPath = HumanoidModelSource.Resolve(_options.ModelPath, _options.AssetsDirectory);
        _sim = new MujocoSimulation(ModelPath, _options.RenderWidth, _options.RenderHeight, _options.Flags, _options.Backend);
        _skeleton = new HumanoidSkeleton(_sim, ModelPath);
        _skeleton.Require(_options.SuccessPose);
        foreach (var mass in _sim.BodyMass) _totalMass += mass;

        var range = _sim.CtrlRange;
        var limited = _sim.CtrlLimited;
        _actionLow = new float[_sim.Nu];
        var high = new float[_sim.Nu];
        for (var i = 0; i < _sim.Nu; i++)
        {
            (_actionLow[i], high[i]) = limited[i] != 0 ? ((float)range[2 * i], (float)range[2 * i + 1]) : (float.NegativeInfinity, float.PositiveInfinity);
        }
        var observationSize = _sim.Nq - 2 + _sim.Nv + _sim.Nbody * 10 + _sim.Nbody * 6 + _sim.Nv + _sim.Nbody * 6;
        Spec = new EnvSpec("Humanoid", new BoxSpace(observationSize, float.NegativeInfinity, float.PositiveInfinity), new BoxSpace(_actionLow, high),
            _options.MaxEpisodeSteps, _options.RenderWidth, _options.RenderHeight);
        Dt = _sim.Timestep * _options.FrameSkip;
    }

    public EnvSpec Spec { get; }
    public HumanoidOptions Options => _options;
    public string ModelPath { get; }

    /// <summary>Time per environment step (timestep × frame skip): 0.015 s on Humanoid-v4.</summary>
    public double Dt { get; }

    public MujocoSimulation Simulation => _sim;

    /// <summary>Where the body's parts are now (what the pose predicates read).</summary>
    public HumanoidBodyState Body => _skeleton.Read();

    public HumanoidSkeleton Skeleton => _skeleton;

    public bool IsSuccess => HumanoidPoses.Holds(_options.SuccessPose, Body);

    public bool IsHealthy => _sim.Qpos[2] > _options.HealthyZMin && _sim.Qpos[2] < _options.HealthyZMax;

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } value) _rng.Reseed((ulong)value);
        _sim.ResetData();
        var noise = _options.ResetNoiseScale;
        var qpos = _sim.Qpos;
        var qpos0 = _sim.Qpos0;
        for (var i = 0; i < qpos.Length; i++) qpos[i] = qpos0[i] + _rng.Uniform(-noise, noise);
        var qvel = _sim.Qvel;
        for (var i = 0; i < qvel.Length; i++) qvel[i] = _rng.Uniform(-noise, noise);
        _sim.Forward();
        _elapsedSteps = 0;
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != _sim.Nu) throw new ArgumentException($"Humanoid takes {_sim.Nu} actions, got {action.Length}.", nameof(action));
        var (xBefore, _) = MassCentre();
        var ctrl = _sim.Ctrl;
        double ctrlCost = 0;
        for (var i = 0; i < ctrl.Length; i++)
        {
            if (!float.IsFinite(action[i])) throw new ArgumentException($"Humanoid action {i} is {action[i]}; actions must be finite.", nameof(action));
            ctrl[i] = action[i];
            ctrlCost += action[i] * (double)action[i];
        }
        _sim.Step(_options.FrameSkip);
        var (xAfter, _) = MassCentre();
        _elapsedSteps++;
        WriteObservation(observation);

        var healthy = IsHealthy;
        var reward = _options.ForwardRewardWeight * (xAfter - xBefore) / Dt
                     + (healthy || _options.TerminateWhenUnhealthy ? _options.HealthyReward : 0)
                     - _options.CtrlCostWeight * ctrlCost;
        var terminated = _options.TerminateWhenUnhealthy && !healthy;
        return new StepResult((float)reward, terminated, _elapsedSteps >= Spec.MaxEpisodeSteps, IsSuccess);
    }

    public void Render(Span<byte> rgb) => _sim.Render(_options.Camera, rgb);

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_sim.Time);
        foreach (var v in _sim.Qpos) writer.Write(v);
        foreach (var v in _sim.Qvel) writer.Write(v);
        foreach (var v in _sim.Ctrl) writer.Write(v);
        writer.Write(_elapsedSteps);
        _rng.Write(writer);
    }

    public void LoadState(BinaryReader reader)
    {
        _sim.Time = reader.ReadDouble();
        var qpos = _sim.Qpos;
        for (var i = 0; i < qpos.Length; i++) qpos[i] = reader.ReadDouble();
        var qvel = _sim.Qvel;
        for (var i = 0; i < qvel.Length; i++) qvel[i] = reader.ReadDouble();
        var ctrl = _sim.Ctrl;
        for (var i = 0; i < ctrl.Length; i++) ctrl[i] = reader.ReadDouble();
        _elapsedSteps = reader.ReadInt32();
        _rng.Read(reader);
        _sim.Forward();
    }

    public void Dispose() => _sim.Dispose();

    /// <summary>Gymnasium's mass_center: Σ mᵢ·xiposᵢ / Σ mᵢ.</summary>
    private (double X, double Y) MassCentre()
    {
        var xipos = _sim.Xipos;
        var mass = _sim.BodyMass;
        double x = 0, y = 0;
        for (var b = 0; b < mass.Length; b++)
        {
            x += mass[b] * xipos[b * 3];
            y += mass[b] * xipos[b * 3 + 1];
        }
        return (x / _totalMass, y / _totalMass);
    }

    private void WriteObservation(Span<float> observation)
    {
        var o = 0;
        void Append(ReadOnlySpan<double> values, Span<float> destination)
        {
            foreach (var v in values) destination[o++] = (float)v;
        }
        Append(_sim.Qpos[2..], observation);
        Append(_sim.Qvel, observation);
        Append(_sim.Cinert, observation);
        Append(_sim.Cvel, observation);
        Append(_sim.QfrcActuator, observation);
        Append(_sim.CfrcExt, observation);
    }
}
