using VlmRm.Abstractions;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains;

public static class RewardSpecs
{
    /// <summary>The reward spec of a CLIP run's reward section; null for a ground-truth run, which needs no reward grain.</summary>
    public static RewardSpec? From(RewardSection reward) =>
        reward.Labeller == LabellerKind.Clip ? new(reward.Model!, [.. reward.Goal], [.. reward.Baseline], reward.Alpha) : null;
}
