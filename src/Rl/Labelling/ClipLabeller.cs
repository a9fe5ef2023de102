using VlmRm.Clip.Reward;

namespace VlmRm.Rl.Labelling;

/// <summary>CLIP rewards (paper section 3) for frames of the reached states, computed in this process.</summary>
public sealed class ClipLabeller(ClipRewardModel model, FrameSize frames) : IRewardLabeller
{
    private float[] _embeddings = [];
    private ClipRewardModel _model = model;

    public string Name => $"clip:{_model.Model.Folder.Name}:alpha={_model.Reward.Alpha}";

    /// <summary>The reward of Eq. 2–3 this labeller scores with, for re-rewarding stored embeddings.</summary>
    public ClipReward Reward => _model.Reward;

    /// <summary>The same model with the new prompts and α; the trainer calls it with nothing being labelled.</summary>
    public ValueTask<ClipReward> ChangeRewardAsync(Presets.RewardSection reward, CancellationToken cancellationToken)
    {
        _model = new ClipRewardModel(_model.Model, new RewardPrompts(reward.Goal, reward.Baseline), reward.Alpha);
        return ValueTask.FromResult(_model.Reward);
    }
    public FrameSize? Frames => frames;

    public ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken)
    {
        if (batch.FrameSize != frames) throw new ArgumentException($"CLIP labeller expects {frames.Width}×{frames.Height} frames, got {batch.FrameSize}.");
        foreach (var (first, count, bytes) in batch.Frames!.Runs(0, batch.Count))
        {
            var needed = count * _model.EmbedDim;
            if (_embeddings.Length < needed) _embeddings = new float[needed];
            _model.Label(bytes.Span, frames.Height, frames.Width, rewards.Span.Slice(first, count), _embeddings.AsSpan(0, needed));
            embeddings?.Write(first, _embeddings.AsSpan(0, needed), _model.EmbedDim);
        }
        return ValueTask.CompletedTask;
    }
}
