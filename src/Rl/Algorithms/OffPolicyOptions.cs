namespace VlmRm.Rl.Algorithms;

/// <summary>
/// Hyperparameters every off-policy algorithm has (SB3's OffPolicyAlgorithm). Defaults are SAC's;
/// DQN's constructor sets its own.
/// </summary>
public abstract record OffPolicyOptions
{
    public double LearningRate { get; init; } = 3e-4;
    public int BufferSize { get; init; } = 1_000_000;
    public int LearningStarts { get; init; } = 100;
    public int BatchSize { get; init; } = 256;
    public double Tau { get; init; } = 0.005;
    public double Gamma { get; init; } = 0.99;
    public int TrainFreq { get; init; } = 1;
    public int GradientSteps { get; init; } = 1;
    public int[] NetArch { get; init; } = [256, 256];

    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>The learning rate after <paramref name="timesteps"/> of a run of <paramref name="totalTimesteps"/>.</summary>
    public double LearningRateAt(long timesteps, long totalTimesteps) => LearningRateSchedule == LearningRateSchedule.Linear
        ? LearningRate * Math.Max(0, 1 - timesteps / (double)totalTimesteps)
        : LearningRate;
}

/// <summary>How the learning rate moves over a run.</summary>
public enum LearningRateSchedule
{
    Constant,

    /// <summary>Falls linearly to zero at the end of the run (rl-zoo's <c>lin_</c> schedules).</summary>
    Linear,
}
