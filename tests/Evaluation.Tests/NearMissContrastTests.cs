using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs.Mujoco;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.TestSupport;

namespace VlmRm.Evaluation.Tests;

/// <summary>The near-miss contrast on the paper's textured humanoid, scored by the Humanoid miniature's shipped reward model in ONNX Runtime.</summary>
public class NearMissContrastTests
{
    [Fact]
    public void Kneeling_is_scored_against_its_near_misses_the_other_tasks_and_random_states()
    {
        var assets = TestPaths.PaperAssetsDirectory;
        Assert.SkipWhen(assets is null, "the paper's reference assets (../shared/assets/vlmrm) are not on this machine");
        using var states = new HumanoidStates(224, assets, HumanoidPose.Kneeling);
        using var model = OnnxClipModel.Load("VlmRm-S-32/envs-v4", ShippedClip.Runtime);
        var rewardModel = new ClipRewardModel(model, TaskPrompts.For(HumanoidPose.Kneeling), 0);

        var groups = NearMissContrast.Measure(states, HumanoidPose.Kneeling, rewardModel, perGroup: 4, seed: 1);

        var nearMisses = HumanoidPoseGenerator.NearMisses.Where(n => n.NearTask == HumanoidPose.Kneeling).Select(n => n.Name).ToList();
        Assert.Equal(["kneeling", .. nearMisses, "lotus_position", "standing", "arms_raised", "doing_splits", "hands_on_hips", "arms_crossed", "standing_on_one_leg", "random posture", "random policy"],
            groups.Select(g => g.Name));
        Assert.True(groups[0].IsTask && groups.Skip(1).All(g => !g.IsTask));
        Assert.True(groups[0].InPose >= 3, $"{groups[0].InPose} of 4 kneeling draws are kneeling");
        Assert.All(groups.Where(g => nearMisses.Contains(g.Name) && g.Name.StartsWith("lunge", StringComparison.Ordinal)), g => Assert.Equal(0, g.InPose));
        Assert.All(groups, g => Assert.True(g.MinReward <= g.MeanReward && g.MeanReward <= g.MaxReward && g.MaxReward <= 1 && g.MinReward >= -1, g.Name));
        Assert.True(groups.Select(g => Math.Round(g.MeanReward, 3)).Distinct().Count() > 5, "the groups' rewards should differ");
        Assert.Equal(groups[0].MeanReward - groups.Skip(1).Max(g => g.MeanReward), NearMissContrast.Margin(groups), 9);
    }
}
