using VlmRm.Clip.Models;

namespace VlmRm.Clip.Reward;

/// <summary>Goal and baseline prompts of a task (paper Table 3); several per role are averaged.</summary>
public sealed record RewardPrompts(IReadOnlyList<string> Goal, IReadOnlyList<string> Baseline)
{
    public RewardPrompts(string goal, string baseline) : this([goal], [baseline])
    {
    }
}

/// <summary>
/// A CLIP model bound to a task's prompts: text embeddings are computed once; each batch of frames is
/// embedded by the image tower and scored. Image embeddings are handed back so callers can cache them
/// and re-score for other prompts or α with <see cref="ClipReward"/> alone.
/// </summary>
public sealed class ClipRewardModel
{
    public ClipRewardModel(OnnxClipModel model, RewardPrompts prompts, float alpha)
    {
        if (prompts.Goal.Count == 0 || prompts.Baseline.Count == 0) throw new ArgumentException("A task needs at least one goal and one baseline prompt.");
        Model = model;
        Prompts = prompts;
        GoalEmbedding = ClipReward.AverageOfNormalized(model.EmbedTexts(prompts.Goal), prompts.Goal.Count);
        BaselineEmbedding = ClipReward.AverageOfNormalized(model.EmbedTexts(prompts.Baseline), prompts.Baseline.Count);
        Reward = new ClipReward(GoalEmbedding, BaselineEmbedding, alpha);
    }

    public OnnxClipModel Model { get; }
    public RewardPrompts Prompts { get; }
    public float[] GoalEmbedding { get; }
    public float[] BaselineEmbedding { get; }
    public ClipReward Reward { get; }
    public int EmbedDim => Model.EmbedDim;

    /// <summary>Rewards for <c>rewards.Length</c> frames; their image embeddings go to <paramref name="imageEmbeddings"/> (count × EmbedDim).</summary>
    public void Label(ReadOnlySpan<byte> frames, int height, int width, Span<float> rewards, Span<float> imageEmbeddings)
    {
        var count = rewards.Length;
        Model.EmbedImages(frames, count, height, width, imageEmbeddings);
        Reward.Score(imageEmbeddings[..(count * EmbedDim)], rewards);
    }

    /// <summary>The same prompts' embeddings scored with another regularization strength.</summary>
    public ClipReward WithAlpha(float alpha) => new(GoalEmbedding, BaselineEmbedding, alpha);
}
