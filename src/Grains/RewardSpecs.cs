using VlmRm.Abstractions;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains;

public static class RewardSpecs
{
    /// <summary>The reward spec of a run configuration's reward section.</summary>
    public static RewardSpec From(RewardSection reward) => new(reward.Labeller, reward.Model, [.. reward.Goal], [.. reward.Baseline], reward.Alpha);
}
