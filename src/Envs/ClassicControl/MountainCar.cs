using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.ClassicControl;

public enum MountainCarLook
{
    /// <summary>Gymnasium's line drawing.</summary>
    Plain,

    /// <summary>The paper's "more realistic" rendering (Fig. 2c): sky, rocky mountain, a car, a yellow flag.</summary>
    Textured,
}

/// <summary>Options for <see cref="MountainCarContinuousEnv"/>.</summary>
public sealed record MountainCarOptions
{
    /// <summary>
    /// Paper appendix C.1: no termination; the goal is absorbing (the car stays there) and pays
    /// <see cref="GoalReward"/> every step spent in it. When false the environment is Gymnasium's
    /// MountainCarContinuous-v0 exactly (terminates at the goal with +100, 999 steps).
    /// </summary>
    public bool PaperModifications { get; init; } = true;

    public float GoalReward { get; init; } = 1f;

    /// <summary>Gymnasium's action cost, 0.1·a², paid off the goal.</summary>
    public float ControlCostWeight { get; init; } = 0.1f;

    public MountainCarLook Look { get; init; } = MountainCarLook.Plain;

    /// <summary>
    /// Folder with the paper's textures (mountain_car_background.png, mountain_car.png) for the
    /// textured look; when null the project's procedural textures are used.
    /// </summary>
    public string? AssetsDirectory { get; init; }

    public int MaxEpisodeSteps { get; init; } = 999;
    public int RenderWidth { get; init; } = MountainCarRenderer.NativeWidth;
    public int RenderHeight { get; init; } = MountainCarRenderer.NativeHeight;
}

/// <summary>
/// MountainCarContinuous-v0 with Gymnasium's constants. Gymnasium stores the state as float32 after
/// each step; the arithmetic here is float64 with the same float32 rounding of the stored state.
/// </summary>
public sealed class MountainCarContinuousEnv : IEnv
{
    public const double MinAction = -1.0;
    public const double MaxAction = 1.0;
    public const double MinPosition = -1.2;
    public const double MaxPosition = 0.6;
    public const double MaxSpeed = 0.07;
    public const double GoalPosition = 0.45;
    public const double GoalVelocity = 0.0;
    public const double Power = 0.0015;

    private static readonly BoxSpace ObservationBox = new([(float)MinPosition, -(float)MaxSpeed], [(float)MaxPosition, (float)MaxSpeed]);
    private static readonly BoxSpace ActionBox = new([(float)MinAction], [(float)MaxAction]);

    private readonly MountainCarOptions _options;
    private readonly IMountainCarRenderer _renderer;
    private readonly Rng _rng = new(0);
    private int _elapsedSteps;

    public MountainCarContinuousEnv(MountainCarOptions? options = null)
    {
        _options = options ?? new MountainCarOptions();
        var id = (_options.PaperModifications, _options.Look) switch
        {
            (false, MountainCarLook.Plain) => "MountainCarContinuous-v0",
            (_, MountainCarLook.Textured) => "MountainCarTextured",
            _ => "MountainCar",
        };
        Spec = new EnvSpec(id, ObservationBox, ActionBox, _options.MaxEpisodeSteps, _options.RenderWidth, _options.RenderHeight);
        _renderer = _options.Look == MountainCarLook.Textured
            ? TexturedMountainCarRenderer.Create(_options.RenderWidth, _options.RenderHeight, _options.AssetsDirectory)
            : new MountainCarRenderer(_options.RenderWidth, _options.RenderHeight);
    }

    public EnvSpec Spec { get; }

    public MountainCarState State { get; set; }

    public bool IsSuccess => IsAtGoal(State);

    /// <summary>Ground-truth goal predicate, Gymnasium's termination condition.</summary>
    public static bool IsAtGoal(MountainCarState s) => s.Position >= GoalPosition && s.Velocity >= GoalVelocity;

    public static double Height(double position) => Math.Sin(3 * position) * 0.45 + 0.55;

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } value) _rng.Reseed((ulong)value);
        State = new MountainCarState(_rng.Uniform(-0.6, -0.4), 0);
        _elapsedSteps = 0;
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var a = action[0];
        if (!float.IsFinite(a)) throw new ArgumentException($"MountainCar action must be finite, got {a}.", nameof(action));
        var wasAtGoal = IsAtGoal(State);
        _elapsedSteps++;
        var truncated = _elapsedSteps >= Spec.MaxEpisodeSteps;

        if (_options.PaperModifications && wasAtGoal)
        {
            // Absorbing goal: nothing the policy does changes the state or the reward any more.
            WriteObservation(observation);
            return new StepResult(_options.GoalReward, false, truncated, true);
        }

        State = Dynamics(State, a);
        WriteObservation(observation);
        var atGoal = IsAtGoal(State);
        var controlCost = _options.ControlCostWeight * a * a;
        if (_options.PaperModifications)
        {
            return new StepResult(atGoal ? _options.GoalReward : -controlCost, false, truncated, atGoal);
        }
        return new StepResult((atGoal ? 100f : 0f) - controlCost, atGoal, truncated, atGoal);
    }

    /// <summary>One step of Gymnasium's MountainCarContinuous equations.</summary>
    public static MountainCarState Dynamics(MountainCarState s, double action)
    {
        var force = Math.Min(Math.Max(action, MinAction), MaxAction);
        var velocity = s.Velocity + force * Power - 0.0025 * Math.Cos(3 * s.Position);
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        var position = Math.Clamp(s.Position + velocity, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0;
        return new MountainCarState((float)position, (float)velocity);
    }

    public void Render(Span<byte> rgb) => _renderer.Render(State, rgb);

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(State.Position);
        writer.Write(State.Velocity);
        writer.Write(_elapsedSteps);
        _rng.Write(writer);
    }

    public void LoadState(BinaryReader reader)
    {
        State = new MountainCarState(reader.ReadDouble(), reader.ReadDouble());
        _elapsedSteps = reader.ReadInt32();
        _rng.Read(reader);
    }

    public void Dispose()
    {
    }

    private void WriteObservation(Span<float> observation)
    {
        observation[0] = (float)State.Position;
        observation[1] = (float)State.Velocity;
    }
}

public readonly record struct MountainCarState(double Position, double Velocity);
