using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Epic;

public sealed record PromptCandidate(string Goal, string Baseline, float Alpha);

/// <summary>A candidate reward model's EPIC distance to the goal labels and its mean reward on goal and non-goal states.</summary>
public sealed record ScreeningResult(PromptCandidate Candidate, double Epic, double MeanGoalReward, double MeanNonGoalReward);

/// <summary>
/// Ranks goal/baseline prompt pairs and α by EPIC distance to a labelled set before any RL is spent. Image
/// embeddings come from the <see cref="EmbeddingCache"/>; each distinct prompt costs one text pass.
/// </summary>
public static class PromptScreening
{
    public static float[] Rewards(SetEmbeddings embeddings, ClipReward reward)
    {
        var rewards = new float[embeddings.Count];
        reward.Score(embeddings.Values, rewards);
        return rewards;
    }

    public static ScreeningResult Score(PromptCandidate candidate, ClipReward reward, SetEmbeddings embeddings, bool[] labels)
    {
        var rewards = Rewards(embeddings, reward);
        return new ScreeningResult(candidate, EpicDistance.ToGoalLabels(rewards, labels), GoalRanking.MeanReward(rewards, labels, true), GoalRanking.MeanReward(rewards, labels, false));
    }

    /// <summary>Every goal × baseline × α combination, best (lowest EPIC) first.</summary>
    public static IReadOnlyList<ScreeningResult> Rank(OnnxClipModel model, SetEmbeddings embeddings, bool[] labels,
        IReadOnlyList<string> goals, IReadOnlyList<string> baselines, IReadOnlyList<float> alphas)
    {
        if (goals.Count == 0 || baselines.Count == 0 || alphas.Count == 0) throw new ArgumentException("Screening needs at least one goal prompt, one baseline prompt and one α.");
        if (labels.Length != embeddings.Count) throw new ArgumentException($"{labels.Length} labels for {embeddings.Count} embeddings.");
        var prompts = goals.Concat(baselines).Distinct(StringComparer.Ordinal).ToList();
        var text = model.EmbedTexts(prompts);
        ReadOnlySpan<float> Embedding(string prompt) => text.AsSpan(prompts.IndexOf(prompt) * model.EmbedDim, model.EmbedDim);
        var results = new List<ScreeningResult>();
        foreach (var goal in goals)
        {
            foreach (var baseline in baselines)
            {
                foreach (var alpha in alphas)
                {
                    if (goal == baseline && alpha > 0) continue; // Definition 1 needs two directions
                    var reward = new ClipReward(Embedding(goal), Embedding(baseline), alpha);
                    results.Add(Score(new PromptCandidate(goal, baseline, alpha), reward, embeddings, labels));
                }
            }
        }
        return results.OrderBy(r => r.Epic).ToList();
    }
}
