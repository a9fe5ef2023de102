using VlmRm.Envs;
using VlmRm.Rl.Buffers;

namespace VlmRm.Rl.Algorithms;

/// <summary>What Algorithm 1 needs of SAC or DQN: act, learn from the labelled buffer, snapshot.</summary>
public interface IOffPolicyAlgorithm : IDisposable
{
    /// <summary>Actions for N observations as stored in the replay buffer (SAC: scaled to [−1, 1]; DQN: the index).</summary>
    void Act(ReadOnlySpan<float> observations, int count, Span<float> bufferActions, ActMode mode, long timesteps, Rng rng);

    /// <summary>Maps buffer actions to what the environment takes (SAC rescales to the action bounds).</summary>
    void ToEnvironmentActions(ReadOnlySpan<float> bufferActions, Span<float> environmentActions);

    /// <summary>Called after every vectorized environment step with the run's timesteps (DQN's target-network schedule).</summary>
    void OnTimesteps(long timesteps);

    /// <summary>Runs gradient steps on batches sampled from <paramref name="buffer"/>; returns the last step's statistics.</summary>
    TrainStatistics Train(ReplayBuffer buffer, int gradientSteps, Rng rng);

    void Save(BinaryWriter writer);

    void Load(BinaryReader reader);
}

public enum ActMode
{
    /// <summary>Before learning starts: uniform random actions, as SB3 does.</summary>
    Random,

    /// <summary>Training: SAC samples its policy, DQN is ε-greedy.</summary>
    Explore,

    /// <summary>Evaluation: SAC's mean action, DQN's greedy action.</summary>
    Deterministic,
}

/// <summary>Losses and coefficients after a training call, for logs.</summary>
public sealed record TrainStatistics(IReadOnlyDictionary<string, double> Values)
{
    public static readonly TrainStatistics Empty = new(new Dictionary<string, double>());
}
