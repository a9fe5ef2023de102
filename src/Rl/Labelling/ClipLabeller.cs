using VlmRm.Clip.Reward;

namespace VlmRm.Rl.Labelling;

/// <summary>CLIP rewards (paper section 3) for frames of the reached states, computed in this process.</summary>
public sealed class ClipLabeller(ClipRewardModel model, FrameSize frames) : IRewardLabeller
{
    private float[] _embeddings = [];

    public string Name => $"clip:{model.Model.Folder.Name}:alpha={model.Reward.Alpha}";
    public FrameSize? Frames => frames;

    public ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, CancellationToken cancellationToken)
    {
        if (batch.FrameSize != frames) throw new ArgumentException($"CLIP labeller expects {frames.Width}×{frames.Height} frames, got {batch.FrameSize}.");
        foreach (var (first, count, bytes) in batch.Frames!.Runs(0, batch.Count))
        {
            var needed = count * model.EmbedDim;
            if (_embeddings.Length < needed) _embeddings = new float[needed];
            model.Label(bytes.Span, frames.Height, frames.Width, rewards.Span.Slice(first, count), _embeddings.AsSpan(0, needed));
        }
        return ValueTask.CompletedTask;
    }
}
