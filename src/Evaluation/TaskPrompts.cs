using VlmRm.Clip.Reward;

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
}
