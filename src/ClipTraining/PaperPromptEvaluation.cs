using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Evaluation;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.ClipTraining;

/// <summary>How well a model's reward from the paper's prompts separates goal states at one α.</summary>
public sealed record PromptScore(string EnvId, float Alpha, double Epic, double RankingAccuracy, double GoalShare);

/// <summary>
/// The paper's prompts (Table 3), never seen in training, scored on uniformly drawn states of the classic-control
/// tasks (appendix A's distribution) against their ground-truth goal predicates: EPIC distance (Lemma 1, lower is
/// better) and ranking accuracy, the probability that a random goal state gets a higher reward than a random
/// non-goal state (<see cref="GoalRanking"/>).
/// </summary>
public static class PaperPromptEvaluation
{
    public static readonly float[] Alphas = [0f, 0.5f, 1f];

    public static IReadOnlyList<PromptScore> Measure(OnnxClipModel model, IEnumerable<string> envIds, int states = 600, int seed = 12345)
    {
        var scores = new List<PromptScore>();
        foreach (var envId in envIds.Where(ClassicControlStates.Supports))
        {
            var size = model.Manifest.ImageSize;
            using var sampler = new ClassicControlStates(envId, new EnvOptions { RenderWidth = size, RenderHeight = size });
            var (values, isGoal) = sampler.SampleStates(states, new Rng((ulong)seed));
            var embeddings = sampler.EmbedStates(values, model);
            var prompts = TaskPrompts.For(envId)!;
            var rewardModel = new ClipRewardModel(model, prompts, 0);
            var rewards = new float[states];
            foreach (var alpha in Alphas)
            {
                rewardModel.WithAlpha(alpha).Score(embeddings, rewards);
                scores.Add(new PromptScore(envId, alpha, EpicDistance.ToGoalLabels(rewards, isGoal), GoalRanking.Accuracy(rewards, isGoal), isGoal.Count(g => g) / (double)states));
            }
        }
        return scores;
    }
}
