using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using VlmRm.Abstractions;
using VlmRm.Clip.Reward;

namespace VlmRm.Grains;

/// <summary>
/// Labels batches for one reward spec. A stateless worker with one activation per silo: learners call
/// the activation on their own silo, so frames never cross silos, and the silo's CLIP model session is
/// shared (<see cref="ClipModelCache"/>). Concurrent requests from several learners are merged into one
/// model call (up to MaxBatchFrames, waiting at most MaxWait for company).
/// </summary>
[StatelessWorker(1)]
[Reentrant]
public sealed class RewardGrain(ClipModelCache models, Microsoft.Extensions.Options.IOptions<RewardBatchingOptions> options, ILogger<RewardGrain> logger) : Grain, IRewardGrain
{
    private readonly List<(RewardRequest Request, TaskCompletionSource<RewardResponse> Done)> _pending = [];
    private ClipRewardModel? _model;
    private Task? _flush;

    public Task<RewardResponse> LabelAsync(RewardSpec spec, RewardRequest request)
    {
        if (request.EnvironmentRewards.Length != request.Count) throw new ArgumentException($"Request has {request.Count} transitions and {request.EnvironmentRewards.Length} rewards.");
        if (spec.Labeller == "ground_truth") return Task.FromResult(new RewardResponse(request.EnvironmentRewards, [], 1));
        if (request.Frames.Length != request.Count * request.FrameWidth * request.FrameHeight * 3)
        {
            throw new ArgumentException($"CLIP labelling needs {request.Count} frames of {request.FrameWidth}×{request.FrameHeight}×3 bytes, got {request.Frames.Length} bytes.");
        }
        _model ??= models.RewardModel(spec);
        var done = new TaskCompletionSource<RewardResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending.Add((request, done));
        _flush ??= FlushSoonAsync();
        return done.Task;
    }

    private async Task FlushSoonAsync()
    {
        var o = options.Value;
        var deadline = DateTime.UtcNow + o.MaxWait;
        while (DateTime.UtcNow < deadline && _pending.Sum(p => p.Request.Count) < o.MaxBatchFrames) await Task.Delay(5);
        var batch = _pending.ToList();
        _pending.Clear();
        _flush = null;
        try
        {
            await Task.Run(() => Label(batch));
        }
        catch (Exception e)
        {
            logger.LogError(e, "CLIP labelling failed for {Requests} requests", batch.Count);
            foreach (var (_, done) in batch) done.TrySetException(e);
        }
    }

    /// <summary>One model call for every request of the same frame size, then the results split back per caller.</summary>
    private void Label(List<(RewardRequest Request, TaskCompletionSource<RewardResponse> Done)> batch)
    {
        foreach (var group in batch.GroupBy(b => (b.Request.FrameWidth, b.Request.FrameHeight)))
        {
            var items = group.ToList();
            var total = items.Sum(i => i.Request.Count);
            var frames = new byte[items.Sum(i => i.Request.Frames.Length)];
            var offset = 0;
            foreach (var (request, _) in items)
            {
                request.Frames.CopyTo(frames, offset);
                offset += request.Frames.Length;
            }
            var rewards = new float[total];
            var embeddings = new float[total * _model!.EmbedDim];
            _model.Label(frames, group.Key.FrameHeight, group.Key.FrameWidth, rewards, embeddings);
            var start = 0;
            foreach (var (request, done) in items)
            {
                done.TrySetResult(new RewardResponse(
                    rewards.AsSpan(start, request.Count).ToArray(),
                    embeddings.AsSpan(start * _model.EmbedDim, request.Count * _model.EmbedDim).ToArray(),
                    items.Count));
                start += request.Count;
            }
        }
    }
}

/// <summary>Dynamic batching of the reward grain (configuration section "RewardBatching").</summary>
public sealed class RewardBatchingOptions
{
    public int MaxBatchFrames { get; set; } = 256;
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(20);
}
