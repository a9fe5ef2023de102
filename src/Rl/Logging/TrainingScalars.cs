namespace VlmRm.Rl.Logging;

/// <summary>
/// The episode curves Algorithm 1 writes to TensorBoard (Stable-Baselines3's names), each with what it means in words
/// a figure can print. Every curve is a mean over the run's recent episodes (<c>stats_window</c>).
/// </summary>
public static class TrainingScalars
{
    public const string TrainingReturn = "rollout/ep_rew_mean";
    public const string GroundTruthReturn = "rollout/ep_gt_return_mean";
    public const string SuccessRate = "rollout/success_rate";
    public const string EpisodeLength = "rollout/ep_len_mean";

    /// <summary>DQN's mean Q(s, a) over a training batch: where values diverge, this leaves the range of the task's returns.</summary>
    public const string DqnMeanQ = "train/q_mean";

    /// <summary>A figure title and a y-axis label (with its unit) for a curve; an unknown tag describes itself.</summary>
    public static (string Title, string Axis) Describe(string tag) => tag switch
    {
        TrainingReturn => ("Training reward", "episode return, training reward (mean of recent episodes)"),
        GroundTruthReturn => ("Ground-truth return", "episode return, ground truth (mean of recent episodes)"),
        SuccessRate => ("Success rate", "share of recent episodes ending at the goal"),
        EpisodeLength => ("Episode length", "steps per episode (mean of recent episodes)"),
        DqnMeanQ => ("DQN Q-values", "mean Q(s, a) of a training batch"),
        _ => (tag, tag),
    };
}
