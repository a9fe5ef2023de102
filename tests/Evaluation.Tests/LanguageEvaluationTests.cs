using VlmRm.Clip.Export;
using VlmRm.Evaluation.Language;
using VlmRm.TestSupport;

namespace VlmRm.Evaluation.Tests;

public sealed class LanguageEvaluationTests
{
    [Fact]
    public void Every_task_scores_the_paper_prompt_and_every_held_out_sentence()
    {
        var models = new SyntheticModels(("Synthetic-S/test", new ClipArchitecture()));
        using var model = models.Load("Synthetic-S/test");
        var scores = LanguageEvaluation.Measure(model, assetsDirectory: null, states: 40);
        Assert.Equal(["CartPole", "MountainCar", "MountainCarTextured"], scores.Select(s => s.Task).Distinct());
        foreach (var task in new[] { "CartPole", "MountainCar" })
        {
            var expected = 1 + HeldOutLanguage.ByTask[task].Sum(l => l.Sentences.Count);
            Assert.Equal(expected, scores.Count(s => s.Task == task));
        }
        Assert.All(scores, s => Assert.InRange(s.Epic, 0, 1));
        Assert.All(scores.Where(s => s.List == LanguageEvaluation.PaperList), s => Assert.Equal(1, s.Signal, 1e-12)); // the gap's unit
        Assert.All(scores, s => Assert.True(double.IsFinite(s.Signal), $"{s.Sentence}: signal {s.Signal}"));
        Assert.Equal(3 * 3, LanguageEvaluation.Summarize(scores).Count);
    }

    [Fact]
    public void The_targets_compare_each_list_with_the_paper_prompt()
    {
        SentenceScore Row(string list, double epic, double signal = 0.1) => new("CartPole", list, $"{list} {epic}", epic, signal);
        var summary = LanguageEvaluation.Summarize(
        [
            Row(LanguageEvaluation.PaperList, 0.30),
            Row("on-task", 0.35, signal: 0.9), Row("on-task", 0.41, signal: 0.4), // 0.41 > 0.30 + 0.10: one sentence misses
            Row("negatives", 0.80), Row("negatives", 0.90),
            Row("off-task", 0.72, signal: 0.05), Row("off-task", 0.75, signal: -0.2),
        ]).ToDictionary(r => r.List);
        Assert.False(summary["on-task"].TargetMet);
        Assert.Equal(0.35, summary["on-task"].Best, 1e-9);
        Assert.Equal(0.41, summary["on-task"].Worst, 1e-9);
        Assert.True(summary["negatives"].TargetMet);
        Assert.True(summary["off-task"].TargetMet);
        Assert.Equal(0.05, summary["off-task"].WorstSignal, 1e-9); // the largest reward for the wrong thing
        Assert.Equal(0.4, summary["on-task"].WorstSignal, 1e-9); // the weakest on-task sentence
        var accidental = LanguageEvaluation.Summarize([Row(LanguageEvaluation.PaperList, 0.30), Row("off-task", 0.69)]);
        Assert.False(accidental.Single().TargetMet);
    }
}
