using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.ClassicControl;

/// <summary>Options for <see cref="CartPoleEnv"/>.</summary>
public sealed record CartPoleOptions
{
    /// <summary>
    /// Paper appendix C.1: no termination, a negative reward while the pole is down, episode length 200. As in the
    /// paper's code, the cart stays on the track (x within ±2.4) and the angle is wrapped to [−π, π): without
    /// termination an agent could otherwise drive the cart, and its observations, anywhere. Unlike the paper's code,
    /// which clips x but keeps the velocity (a cart pushed against the end gains speed it cannot have, and its
    /// observed velocity grows without bound), the end of the track stops the cart.
    /// When false the environment is Gymnasium's CartPole-v1 exactly (termination, 500 steps).
    /// </summary>
    public bool PaperModifications { get; init; } = true;

    /// <summary>Reward per step while the pole is down (paper mode only).</summary>
    public float FallenReward { get; init; } = -1f;

    public int? MaxEpisodeSteps { get; init; }
    public int RenderWidth { get; init; } = CartPoleRenderer.NativeWidth;
    public int RenderHeight { get; init; } = CartPoleRenderer.NativeHeight;
}

/// <summary>
/// CartPole-v1 with Gymnasium's constants and Euler integration. State is kept in float64 and the
/// observation is its float32 copy, as Gymnasium does.
/// </summary>
public sealed class CartPoleEnv : IEnv
{
    public const double Gravity = 9.8;
    public const double MassCart = 1.0;
    public const double MassPole = 0.1;
    public const double TotalMass = MassPole + MassCart;
    public const double Length = 0.5; // half the pole's length
    public const double PoleMassLength = MassPole * Length;
    public const double ForceMagnitude = 10.0;
    public const double Tau = 0.02;
    public const double ThetaThresholdRadians = 12 * 2 * Math.PI / 360;
    public const double XThreshold = 2.4;

    private static readonly BoxSpace GymnasiumObservationBox = new(
        [-(float)(XThreshold * 2), float.NegativeInfinity, -(float)(ThetaThresholdRadians * 2), float.NegativeInfinity],
        [(float)(XThreshold * 2), float.PositiveInfinity, (float)(ThetaThresholdRadians * 2), float.PositiveInfinity]);

    private static readonly BoxSpace PaperObservationBox = new(
        [-(float)(XThreshold * 2), float.NegativeInfinity, -(float)Math.PI, float.NegativeInfinity],
        [(float)(XThreshold * 2), float.PositiveInfinity, (float)Math.PI, float.PositiveInfinity]);

    private readonly CartPoleOptions _options;
    private readonly CartPoleRenderer _renderer;
    private readonly Rng _rng = new(0);
    private int _elapsedSteps;

    public CartPoleEnv(CartPoleOptions? options = null)
    {
        _options = options ?? new CartPoleOptions();
        var maxSteps = _options.MaxEpisodeSteps ?? (_options.PaperModifications ? 200 : 500);
        Spec = new EnvSpec(
            _options.PaperModifications ? "CartPole" : "CartPole-v1",
            _options.PaperModifications ? PaperObservationBox : GymnasiumObservationBox,
            new DiscreteSpace(2),
            maxSteps,
            _options.RenderWidth,
            _options.RenderHeight);
        _renderer = new CartPoleRenderer(_options.RenderWidth, _options.RenderHeight);
    }

    public EnvSpec Spec { get; }

    public CartPoleState State { get; set; }

    public bool IsSuccess => IsUpright(State);

    /// <summary>Ground-truth goal predicate: within Gymnasium's angle and position thresholds.</summary>
    public static bool IsUpright(CartPoleState s) =>
        s.X >= -XThreshold && s.X <= XThreshold && s.Theta >= -ThetaThresholdRadians && s.Theta <= ThetaThresholdRadians;

    public void Reset(int? seed, Span<float> observation)
    {
        if (seed is { } value) _rng.Reseed((ulong)value);
        State = new CartPoleState(
            _rng.Uniform(-0.05, 0.05), _rng.Uniform(-0.05, 0.05), _rng.Uniform(-0.05, 0.05), _rng.Uniform(-0.05, 0.05));
        _elapsedSteps = 0;
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var a = (int)action[0];
        if (a is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(action), action[0], "CartPole actions are 0 (push left) or 1 (push right).");
        State = _options.PaperModifications ? HoldOnTrack(Dynamics(State, a)) : Dynamics(State, a);
        _elapsedSteps++;
        WriteObservation(observation);

        var upright = IsUpright(State);
        var truncated = _elapsedSteps >= Spec.MaxEpisodeSteps;
        if (_options.PaperModifications)
        {
            return new StepResult(upright ? 1f : _options.FallenReward, false, truncated, upright);
        }
        // Gymnasium v1 pays 1 for every step, the terminating one included.
        return new StepResult(1f, !upright, truncated, upright);
    }

    /// <summary>One Euler step of Gymnasium's CartPole equations.</summary>
    public static CartPoleState Dynamics(CartPoleState s, int action)
    {
        var force = action == 1 ? ForceMagnitude : -ForceMagnitude;
        var cosTheta = Math.Cos(s.Theta);
        var sinTheta = Math.Sin(s.Theta);
        var temp = (force + PoleMassLength * s.ThetaDot * s.ThetaDot * sinTheta) / TotalMass;
        var thetaAcc = (Gravity * sinTheta - cosTheta * temp) /
                       (Length * (4.0 / 3.0 - MassPole * cosTheta * cosTheta / TotalMass));
        var xAcc = temp - PoleMassLength * thetaAcc * cosTheta / TotalMass;
        return new CartPoleState(
            s.X + Tau * s.XDot,
            s.XDot + Tau * xAcc,
            s.Theta + Tau * s.ThetaDot,
            s.ThetaDot + Tau * thetaAcc);
    }

    /// <summary>The paper's bounds: the cart stays on the track (x within ±2.4, stopped at its ends) and the angle is wrapped to [−π, π).</summary>
    public static CartPoleState HoldOnTrack(CartPoleState s)
    {
        var theta = s.Theta - 2 * Math.PI * Math.Floor((s.Theta + Math.PI) / (2 * Math.PI));
        var intoTheEnd = Math.Abs(s.X) >= XThreshold && Math.Sign(s.XDot) == Math.Sign(s.X);
        return intoTheEnd
            ? new CartPoleState(Math.Clamp(s.X, -XThreshold, XThreshold), 0, theta, s.ThetaDot)
            : s with { Theta = theta };
    }

    public void Render(Span<byte> rgb) => _renderer.Render(State, rgb);

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(State.X);
        writer.Write(State.XDot);
        writer.Write(State.Theta);
        writer.Write(State.ThetaDot);
        writer.Write(_elapsedSteps);
        _rng.Write(writer);
    }

    public void LoadState(BinaryReader reader)
    {
        State = new CartPoleState(reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
        _elapsedSteps = reader.ReadInt32();
        _rng.Read(reader);
    }

    public void Dispose()
    {
    }

    private void WriteObservation(Span<float> observation)
    {
        observation[0] = (float)State.X;
        observation[1] = (float)State.XDot;
        observation[2] = (float)State.Theta;
        observation[3] = (float)State.ThetaDot;
    }
}

public readonly record struct CartPoleState(double X, double XDot, double Theta, double ThetaDot);
