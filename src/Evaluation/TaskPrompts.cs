using VlmRm.Clip.Reward;
using VlmRm.Envs.Mujoco;

namespace VlmRm.Evaluation;

/// <summary>The paper's goal and baseline prompts per task (section 4, as in presets/*.yaml), the defaults of the evaluation verbs.</summary>
public static class TaskPrompts
{
    public static RewardPrompts? For(string envId) => envId switch
    {
        _ when envId.StartsWith("CartPole", StringComparison.OrdinalIgnoreCase) => PaperPrompts.CartPole,
        _ when envId.StartsWith("MountainCar", StringComparison.OrdinalIgnoreCase) => PaperPrompts.MountainCar,
        _ when envId.StartsWith("Humanoid", StringComparison.OrdinalIgnoreCase) => PaperPrompts.HumanoidKneeling,
        _ => null,
    };

    /// <summary>
    /// The prompts of a labelled set's task: a Humanoid set made for one of the eight tasks (its manifest's task, e.g.
    /// lotus_position) takes that task's prompts; any other set its environment's.
    /// </summary>
    public static RewardPrompts? For(string envId, string? task)
    {
        if (envId.StartsWith("Humanoid", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var pose in Enum.GetValues<HumanoidPose>())
            {
                if (HumanoidSkeleton.ConfigName(pose) == task) return For(pose);
            }
        }
        return For(envId);
    }

    /// <summary>The paper's prompts for one of its eight Humanoid tasks (Table 3).</summary>
    public static RewardPrompts For(HumanoidPose task) => PaperPrompts.Table3.Single(t => t.Task == task switch
    {
        HumanoidPose.Kneeling => "Humanoid kneeling",
        HumanoidPose.LotusPosition => "Lotus position",
        HumanoidPose.Standing => "Standing up",
        HumanoidPose.ArmsRaised => "Arms raised",
        HumanoidPose.DoingSplits => "Doing splits",
        HumanoidPose.HandsOnHips => "Hands on hips",
        HumanoidPose.ArmsCrossed => "Arms crossed",
        HumanoidPose.StandingOnOneLeg => "Standing on one leg",
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, $"Unknown Humanoid task; the tasks: {string.Join(", ", Enum.GetNames<HumanoidPose>())}."),
    }).Prompts;
}
