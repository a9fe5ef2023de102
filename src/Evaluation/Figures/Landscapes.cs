using VlmRm.Clip.Reward;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Figures;

/// <summary>Paper Fig. 2's data: a task's CLIP reward along its landscape coordinate (pole angle, car position), one series per α.</summary>
public static class Landscapes
{
    public static IReadOnlyList<Series> Compute(ClassicControlStates states, ClipRewardModel rewardModel, IEnumerable<float> alphas, int points = 91)
    {
        var grid = states.LandscapeStates(points);
        var embeddings = states.EmbedStates(grid, rewardModel.Model);
        var xs = Enumerable.Range(0, points).Select(i => states.LandscapeCoordinate(grid.AsSpan(i * states.StateSize, states.StateSize))).ToArray();
        return alphas.Select(a =>
        {
            var rewards = new float[points];
            rewardModel.WithAlpha(a).Score(embeddings, rewards);
            return new Series($"α={a}", xs, rewards.Select(r => (double)r).ToArray());
        }).ToList();
    }
}
