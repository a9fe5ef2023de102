using Microsoft.Extensions.Logging;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Labelling;

/// <summary>Builds the labeller a run configuration names.</summary>
public static class RewardLabellers
{
    /// <returns>The labeller, and the CLIP model it owns (dispose it with the run), if any.</returns>
    public static (IRewardLabeller Labeller, IDisposable? Model) Create(RewardSection reward, ClipRuntimeOptions clip, ILogger? logger = null)
    {
        if (reward.Labeller == LabellerKind.GroundTruth) return (new GroundTruthLabeller(), null);
        var model = OnnxClipModel.Load(reward.Model!, clip, logger);
        try
        {
            var rewardModel = new ClipRewardModel(model, new RewardPrompts(reward.Goal, reward.Baseline), reward.Alpha);
            return (new ClipLabeller(rewardModel, new FrameSize(reward.FrameWidth, reward.FrameHeight)), model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
