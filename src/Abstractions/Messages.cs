namespace VlmRm.Abstractions;

public enum RunState
{
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// <summary>One run of Algorithm 1: its id and run configuration (JSON of VlmRm.Rl.Presets.RunConfig).</summary>
[GenerateSerializer, Immutable]
public sealed record RunRequest([property: Id(0)] string RunId, [property: Id(1)] string ConfigJson, [property: Id(2)] string? SweepName);

/// <summary>Where a run stands; small enough to poll often.</summary>
[GenerateSerializer, Immutable]
public sealed record RunStatus(
    [property: Id(0)] string RunId,
    [property: Id(1)] RunState State,
    [property: Id(2)] long Timesteps,
    [property: Id(3)] long TotalTimesteps,
    [property: Id(4)] double StepsPerSecond,
    [property: Id(5)] double MeanGroundTruthReturn,
    [property: Id(6)] double SuccessRate,
    [property: Id(7)] double MeanLabelledReturn,
    [property: Id(8)] string? Error,
    [property: Id(9)] string? Silo,
    [property: Id(10)] int Resumes)
{
    public static RunStatus Queued(string runId, long total) => new(runId, RunState.Queued, 0, total, 0, double.NaN, double.NaN, double.NaN, null, null, 0);

    public bool IsFinished => State is RunState.Done or RunState.Failed or RunState.Cancelled;
}

/// <summary>A sweep's runs and their states.</summary>
[GenerateSerializer, Immutable]
public sealed record SweepStatus([property: Id(0)] string Name, [property: Id(1)] IReadOnlyList<RunStatus> Runs, [property: Id(2)] int MaxConcurrent)
{
    public bool IsFinished => Runs.Count > 0 && Runs.All(r => r.IsFinished);
}

/// <summary>
/// A batch for the reward grain: the transitions' environment rewards and, for CLIP rewards, their frames
/// (Count × Height × Width × 3). Frames are large: callers use the reward grain placed on their own silo
/// when that silo may host one (<c>RewardGrainKey</c>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RewardRequest(
    [property: Id(0)] int Count,
    [property: Id(1)] float[] EnvironmentRewards,
    [property: Id(2)] byte[] Frames,
    [property: Id(3)] int FrameWidth,
    [property: Id(4)] int FrameHeight);

/// <summary>Rewards for a batch, the image embeddings when CLIP computed them (Count × dim), and where it ran.</summary>
[GenerateSerializer, Immutable]
public sealed record RewardResponse([property: Id(0)] float[] Rewards, [property: Id(1)] float[] Embeddings, [property: Id(2)] int BatchedWith, [property: Id(3)] string Silo);

/// <summary>A reward spec's goal and baseline text embeddings.</summary>
[GenerateSerializer, Immutable]
public sealed record PromptEmbeddings([property: Id(0)] float[] Goal, [property: Id(1)] float[] Baseline);

/// <summary>
/// The CLIP reward a reward grain labels with (model, goal and baseline prompts, α); its key is derived from this.
/// Ground-truth runs need no reward grain: their learner labels with the environment's rewards.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RewardSpec(
    [property: Id(0)] string Model,
    [property: Id(1)] string[] Goal,
    [property: Id(2)] string[] Baseline,
    [property: Id(3)] float Alpha)
{
    /// <summary>Grain key: one reward grain per (model, prompts, α).</summary>
    public string Key => $"clip|{Model}|{string.Join("+", Goal)}|{string.Join("+", Baseline)}|{Alpha:R}";

    /// <summary>Reward grain key asking for placement on <paramref name="silo"/> (a parsable silo address, which holds no '/').</summary>
    public string GrainKey(string silo) => $"{silo}/{Key}";

    /// <summary>The silo a reward grain key asks for.</summary>
    public static string RequestedSilo(string grainKey) => grainKey[..Math.Max(0, grainKey.IndexOf('/'))];
}
