using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Language;

/// <summary>
/// One sentence used as the goal prompt (α = 0) on one task's uniformly drawn states: its EPIC to the goal labels, and
/// its signal, the gap between its mean reward on goal and on non-goal states as a share of the paper prompt's gap.
/// </summary>
public sealed record SentenceScore(string Task, string List, string Sentence, double Epic, double Signal);

/// <summary>
/// A list's verdict on one task: its EPICs against the paper prompt's, its worst signal (the weakest of the on-task
/// sentences; the largest reward for the wrong thing among negatives and off-task ones), and whether the list's target holds.
/// </summary>
public sealed record ListSummary(string Task, string List, double PaperEpic, double Best, double Mean, double Worst, double WorstSignal, bool TargetMet, string Target);

/// <summary>
/// Scores the paper's prompt and every held-out sentence (<see cref="HeldOutLanguage"/>) as goal prompts on 600
/// uniformly drawn states per task (appendix A's distribution, labelled by the goal predicate), at α = 0 where the
/// baseline plays no part, so each figure is the sentence's alone. MountainCarTextured is measured with the
/// procedural textures and, given the paper's assets folder, again with the paper's textures.
/// EPIC is invariant to the reward's scale: an off-task sentence whose reward moves a thousandth as much as the paper
/// prompt's still scores as a good reward if what little it moves follows the goal. The signal column says how much:
/// 1 is the paper prompt's goal/non-goal gap, 0 none, negative a reward for leaving the goal.
/// </summary>
public static class LanguageEvaluation
{
    public const string PaperList = "paper prompt";
    public const double OnTaskMargin = 0.10;
    public const double OffTaskFloor = 0.70;

    public static string TaskLabel(string envId, bool paperTextures) => paperTextures ? $"{envId} (paper textures)" : envId;

    public static IReadOnlyList<SentenceScore> Measure(OnnxClipModel model, string? assetsDirectory, int states = 600, int seed = 12345)
    {
        var tasks = new List<(string EnvId, string? Assets)> { ("CartPole", null), ("MountainCar", null), ("MountainCarTextured", null) };
        if (assetsDirectory is not null) tasks.Add(("MountainCarTextured", assetsDirectory));
        var scores = new List<SentenceScore>();
        var size = model.Manifest.ImageSize;
        foreach (var (envId, assets) in tasks)
        {
            using var sampler = new ClassicControlStates(envId, new EnvOptions { RenderWidth = size, RenderHeight = size, AssetsDirectory = assets });
            var (values, isGoal) = sampler.SampleStates(states, new Rng((ulong)seed));
            var embeddings = sampler.EmbedStates(values, model);
            var lists = HeldOutLanguage.For(envId);
            var sentences = new List<(string List, string Sentence)> { (PaperList, TaskPrompts.For(envId)!.Goal[0]) };
            sentences.AddRange(lists.SelectMany(list => list.Sentences.Select(s => (list.Name, s))));
            var text = model.EmbedTexts(sentences.Select(s => s.Sentence).ToList());
            var rewards = new float[states];
            double paperGap = 0;
            for (var i = 0; i < sentences.Count; i++)
            {
                var goal = text.AsSpan(i * model.EmbedDim, model.EmbedDim);
                new ClipReward(goal, goal, 0).Score(embeddings, rewards);
                var gap = GoalGap(rewards, isGoal);
                if (i == 0) paperGap = gap; // the paper prompt comes first
                scores.Add(new SentenceScore(TaskLabel(envId, assets is not null), sentences[i].List, sentences[i].Sentence, EpicDistance.ToGoalLabels(rewards, isGoal), gap / paperGap));
            }
        }
        return scores;
    }

    /// <summary>Mean reward on goal states minus mean reward on the others.</summary>
    private static double GoalGap(ReadOnlySpan<float> rewards, bool[] isGoal)
    {
        var gap = GoalRanking.MeanReward(rewards, isGoal, goal: true) - GoalRanking.MeanReward(rewards, isGoal, goal: false);
        return double.IsNaN(gap) ? throw new InvalidOperationException("The states hold no goal state or only goal states: draw more states.") : gap;
    }

    /// <summary>Per task and list: best, mean and worst EPIC, and the targets (on-task within 0.10 of the paper prompt, off-task ≥ 0.70).</summary>
    public static IReadOnlyList<ListSummary> Summarize(IReadOnlyList<SentenceScore> scores) =>
        scores.GroupBy(s => s.Task).SelectMany(task =>
        {
            var paper = task.First(s => s.List == PaperList).Epic;
            return task.Where(s => s.List != PaperList).GroupBy(s => s.List).Select(list =>
            {
                var epics = list.Select(s => s.Epic).ToList();
                var (met, target) = list.Key switch
                {
                    "on-task" => (epics.Max() <= paper + OnTaskMargin, $"every EPIC ≤ {paper + OnTaskMargin:F2}"),
                    "off-task" => (epics.Min() >= OffTaskFloor, $"every EPIC ≥ {OffTaskFloor:F2}"),
                    _ => (epics.Min() > paper, $"every EPIC > the paper prompt's {paper:F2}"),
                };
                var signals = list.Select(s => s.Signal).ToList();
                var worstSignal = list.Key == "on-task" ? signals.Min() : signals.Max();
                return new ListSummary(task.Key, list.Key, paper, epics.Min(), epics.Average(), epics.Max(), worstSignal, met, target);
            });
        }).ToList();
}
