using Orleans.Concurrency;
using VlmRm.Abstractions;

namespace VlmRm.Grains;

/// <summary>
/// Labels batches of frames with one CLIP reward on the silo its key asks for (<see cref="RewardSiloPlacement"/>): the
/// caller's own silo unless that silo may not host reward grains. Reentrant, so concurrent callers meet in
/// the silo's <see cref="RewardBatcher"/> and share one model call.
/// </summary>
[RewardSiloPlacement]
[Reentrant]
public sealed class RewardGrain(RewardBatcher batcher, ClipModelCache models) : Grain, IRewardGrain
{
    public Task<RewardResponse> LabelAsync(RewardSpec spec, RewardRequest request)
    {
        if (request.EnvironmentRewards.Length != request.Count) throw new ArgumentException($"Request has {request.Count} transitions and {request.EnvironmentRewards.Length} rewards.");
        if (request.Frames.Length != request.Count * request.FrameWidth * request.FrameHeight * 3)
        {
            throw new ArgumentException($"CLIP labelling needs {request.Count} frames of {request.FrameWidth}×{request.FrameHeight}×3 bytes, got {request.Frames.Length} bytes.");
        }
        return batcher.LabelAsync(spec, request);
    }

    public Task<PromptEmbeddings> EmbedPromptsAsync(RewardSpec spec)
    {
        var model = models.RewardModel(spec);
        return Task.FromResult(new PromptEmbeddings(model.GoalEmbedding, model.BaselineEmbedding));
    }
}
