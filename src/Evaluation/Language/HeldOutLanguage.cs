using VlmRm.Clip.Reward;

namespace VlmRm.Evaluation.Language;

/// <summary>One list of held-out sentences and what a reward model should make of them on one task.</summary>
public sealed record SentenceList(string Name, string Expectation, IReadOnlyList<string> Sentences);

/// <summary>
/// Sentences no VlmRm model is trained on (the caption grammar refuses to produce any of them, as it does the
/// paper's prompts), to measure whether a reward model reads language or only its grammar's vocabulary:
/// <list type="bullet">
/// <item><b>on-task</b>: the goal in words the grammar never uses (rod, trolley, crest, pennant …). A model that reads
/// English scores them near the paper's prompt.</item>
/// <item><b>negatives</b>: the task's non-goal states in new words. As goal prompts they should do badly.</item>
/// <item><b>off-task</b>: the other environments' prompts and unrelated scenes. As goal prompts they must carry no
/// reward: EPIC near or above chance, never a good score by accident.</item>
/// </list>
/// </summary>
public static class HeldOutLanguage
{
    /// <summary>A task's off-task list: the other tasks' goal prompts, then sentences about no task here.</summary>
    private static SentenceList OffTask(params string[] otherTasksGoals) => new("off-task", "EPIC ≥ 0.70 (no accidental reward)",
        [.. otherTasksGoals, "a robot sitting cross-legged on the floor", .. UnrelatedScenes]);

    private static readonly string[] UnrelatedScenes =
    [
        "a bowl of fruit on a kitchen table",
        "a sailing boat on a calm lake",
        "a cat asleep on a sofa",
        "a city street at night with traffic lights",
        "a chess board in the middle of a game",
    ];

    public static IReadOnlyDictionary<string, IReadOnlyList<SentenceList>> ByTask { get; } = new Dictionary<string, IReadOnlyList<SentenceList>>(StringComparer.Ordinal)
    {
        ["CartPole"] =
        [
            new("on-task", "within 0.10 of the paper prompt's EPIC",
            [
                "the rod stands on end above the trolley",
                "a stick kept erect on a sliding block",
                "the beam points at the sky above the wagon",
                "an inverted pendulum kept in equilibrium",
                "the shaft rises at ninety degrees from its base",
            ]),
            new("negatives", "worse than the on-task sentences",
            [
                "the rod has dropped and lies flat",
                "the stick has keeled over onto its side",
                "the beam droops beneath the trolley",
                "the pendulum swings low under the block",
            ]),
            OffTask(PaperPrompts.HumanoidKneeling.Goal[0], PaperPrompts.MountainCar.Goal[0]),
        ],
        ["MountainCar"] =
        [
            new("on-task", "within 0.10 of the paper prompt's EPIC",
            [
                "the automobile sits on the crest beside the pennant",
                "a little truck arrives at the highest point, where the banner waves",
                "the buggy made it over the ridge to the marker",
                "the racer ends its climb at the pennant on the right crest",
            ]),
            new("negatives", "worse than the on-task sentences",
            [
                "the automobile is stuck in the dip between the slopes",
                "a little truck rolls back down into the trough",
                "the buggy is far from the pennant, on the left rise",
            ]),
            OffTask(PaperPrompts.CartPole.Goal[0], PaperPrompts.HumanoidKneeling.Goal[0]),
        ],
    };

    /// <summary>The lists of a task (MountainCarTextured reads MountainCar's).</summary>
    public static IReadOnlyList<SentenceList> For(string envId) =>
        ByTask.TryGetValue(envId.StartsWith("MountainCar", StringComparison.Ordinal) ? "MountainCar" : envId, out var lists)
            ? lists
            : throw new ArgumentException($"No held-out sentence lists for '{envId}'; tasks: {string.Join(", ", ByTask.Keys)}.");

    /// <summary>Every held-out sentence except the paper's own prompts (which are held out already).</summary>
    public static IReadOnlyList<string> Written { get; } = ByTask.Values.SelectMany(lists => lists).SelectMany(list => list.Sentences)
        .Except(PaperPrompts.All, StringComparer.Ordinal).Distinct(StringComparer.Ordinal).ToList();
}
