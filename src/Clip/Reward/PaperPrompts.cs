namespace VlmRm.Clip.Reward;

/// <summary>The paper's goal and baseline prompts, Table 3 (appendix C): "the first prompts we tried for every task".</summary>
public static class PaperPrompts
{
    public static RewardPrompts CartPole { get; } = new("pole vertically upright on top of the cart", "pole and cart");
    public static RewardPrompts MountainCar { get; } = new("a car at the peak of the mountain, next to the yellow flag", "a car in the mountain");
    public static RewardPrompts HumanoidKneeling { get; } = new("a humanoid robot kneeling", HumanoidBaseline);

    private const string HumanoidBaseline = "a humanoid robot";

    /// <summary>Every task of Table 3 with its goal and baseline prompt.</summary>
    public static IReadOnlyList<(string Task, RewardPrompts Prompts)> Table3 { get; } =
    [
        ("CartPole", CartPole),
        ("MountainCar", MountainCar),
        ("Humanoid kneeling", HumanoidKneeling),
        ("Lotus position", new("a humanoid robot seated down, meditating in the lotus position", HumanoidBaseline)),
        ("Standing up", new("a humanoid robot standing up", HumanoidBaseline)),
        ("Arms raised", new("a humanoid robot standing up, with both arms raised", HumanoidBaseline)),
        ("Doing splits", new("a humanoid robot practicing gymnastics, doing the side splits", HumanoidBaseline)),
        ("Hands on hips", new("a humanoid robot standing up with hands on hips", HumanoidBaseline)),
        ("Arms crossed", new("a humanoid robot standing up, with its arms crossed", HumanoidBaseline)),
        ("Standing on one leg", new("a humanoid robot standing up on one leg", HumanoidBaseline)),
    ];

    /// <summary>Every distinct prompt of Table 3, goals and baselines.</summary>
    public static IReadOnlyList<string> All { get; } = Table3.SelectMany(t => t.Prompts.Goal.Concat(t.Prompts.Baseline)).Distinct().ToList();
}
