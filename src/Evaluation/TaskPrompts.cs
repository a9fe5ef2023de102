using VlmRm.Clip.Reward;

namespace VlmRm.Evaluation;

/// <summary>The paper's goal and baseline prompts per task (section 4, as in presets/*.yaml), the defaults of the evaluation verbs.</summary>
public static class TaskPrompts
{
    private static readonly RewardPrompts CartPole = new("pole vertically upright on top of the cart", "pole and cart");
    private static readonly RewardPrompts MountainCar = new("a car at the peak of the mountain, next to the yellow flag", "a car in the mountain");
    private static readonly RewardPrompts HumanoidKneeling = new("a humanoid robot kneeling", "a humanoid robot");

    public static RewardPrompts? For(string envId) => envId switch
    {
        _ when envId.StartsWith("CartPole", StringComparison.OrdinalIgnoreCase) => CartPole,
        _ when envId.StartsWith("MountainCar", StringComparison.OrdinalIgnoreCase) => MountainCar,
        _ when envId.StartsWith("Humanoid", StringComparison.OrdinalIgnoreCase) => HumanoidKneeling,
        _ => null,
    };
}
