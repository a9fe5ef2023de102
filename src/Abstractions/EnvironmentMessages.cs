namespace VlmRm.Abstractions;

/// <summary>The copies of one run: its id and run configuration (JSON of VlmRm.Rl.Presets.RunConfig: env, copies, seed, reward, B).</summary>
[GenerateSerializer, Immutable]
public sealed record EnvironmentRequest([property: Id(0)] string RunId, [property: Id(1)] string ConfigJson);

/// <summary>
/// An environment's spec across the wire: a box observation space, and a box action space (Low/High) or a
/// discrete one (<see cref="DiscreteActions"/> &gt; 0); the observations after reset.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EnvironmentDescription(
    [property: Id(0)] string Id,
    [property: Id(1)] float[] ObservationLow,
    [property: Id(2)] float[] ObservationHigh,
    [property: Id(3)] float[] ActionLow,
    [property: Id(4)] float[] ActionHigh,
    [property: Id(5)] int DiscreteActions,
    [property: Id(6)] int MaxEpisodeSteps,
    [property: Id(7)] int RenderWidth,
    [property: Id(8)] int RenderHeight,
    [property: Id(9)] float[] Observations,
    [property: Id(10)] string Silo);

/// <summary>Count × action size floats (discrete actions as their index).</summary>
[GenerateSerializer, Immutable]
public sealed record EnvironmentActions([property: Id(0)] float[] Actions);

/// <summary>What one vectorized step returns: VectorEnv's buffers after the step (auto-reset semantics).</summary>
[GenerateSerializer, Immutable]
public sealed record EnvironmentStep(
    [property: Id(0)] float[] Observations,
    [property: Id(1)] float[] FinalObservations,
    [property: Id(2)] float[] Rewards,
    [property: Id(3)] bool[] Terminated,
    [property: Id(4)] bool[] Truncated,
    [property: Id(5)] bool[] Successes,
    [property: Id(6)] float[] CompletedReturns,
    [property: Id(7)] int[] CompletedLengths);

/// <summary>
/// Rewards for the frames an environment grain held, and the silo whose reward grain computed them; for a run that keeps
/// its embeddings (reward.keep_embeddings), the frames' image embeddings as fp16 bytes, <paramref name="EmbeddingWidth"/>
/// values a frame (empty and 0 otherwise).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EnvironmentLabels([property: Id(0)] float[] Rewards, [property: Id(1)] string LabelledOn, [property: Id(2)] byte[] Embeddings, [property: Id(3)] int EmbeddingWidth);
