namespace VlmRm.Envs;

/// <summary>
/// A Gymnasium-style environment. Observations are written into caller-owned spans so stepping
/// allocates nothing; discrete actions are passed as their index stored in one float.
/// </summary>
public interface IEnv : IDisposable
{
    EnvSpec Spec { get; }

    /// <summary>Starts an episode. A seed reseeds the environment's random stream (Gymnasium semantics).</summary>
    void Reset(int? seed, Span<float> observation);

    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);

    /// <summary>Ground-truth goal predicate on the current state (pole upright, car at the flag, ...).</summary>
    bool IsSuccess { get; }

    /// <summary>Renders the current state as RGB bytes, row-major, <c>Height × Width × 3</c>.</summary>
    void Render(Span<byte> rgb);

    /// <summary>Writes everything a resumed run needs to continue identically: state, step count, random stream.</summary>
    void SaveState(BinaryWriter writer);

    void LoadState(BinaryReader reader);
}

/// <summary>What one step returns besides the observation (Gymnasium's reward, terminated, truncated, info).</summary>
public readonly record struct StepResult(float Reward, bool Terminated, bool Truncated, bool IsSuccess)
{
    public bool Done => Terminated || Truncated;
}

/// <summary>Static facts about an environment instance.</summary>
public sealed record EnvSpec(
    string Id,
    Space ObservationSpace,
    Space ActionSpace,
    int MaxEpisodeSteps,
    int RenderWidth,
    int RenderHeight)
{
    public int ObservationSize => ObservationSpace.FlatSize;
    public int ActionSize => ActionSpace.FlatSize;
    public int FrameBytes => RenderWidth * RenderHeight * 3;
}
