using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VlmRm.Abstractions;
using VlmRm.Clip.Reward;

namespace VlmRm.Grains;

/// <summary>Dynamic batching of CLIP labelling (configuration section "RewardBatching").</summary>
public sealed class RewardBatchingOptions
{
    public int MaxBatchFrames { get; set; } = 256;
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The most frame bytes one labelling message carries (Orleans' default body limit is 100 MB).</summary>
    public long MaxMessageBytes { get; set; } = Rl.Labelling.FrameChunks.DefaultMessageBytes;
}

/// <summary>
/// The silo's CLIP labelling queues, one per reward spec: requests from every reward grain activation on
/// this silo wait up to MaxWait for company (or until MaxBatchFrames are queued) and go to the silo's one
/// model session in a single call; the results are split back per caller.
/// </summary>
public sealed class RewardBatcher(ClipModelCache models, ILocalSiloDetails silo, IOptions<RewardBatchingOptions> options, ILogger<RewardBatcher> logger)
{
    private readonly Dictionary<string, SpecQueue> _queues = [];

    public Task<RewardResponse> LabelAsync(RewardSpec spec, RewardRequest request)
    {
        var model = models.RewardModel(spec);
        var done = new TaskCompletionSource<RewardResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_queues)
        {
            if (!_queues.TryGetValue(spec.Key, out var queue)) _queues[spec.Key] = queue = new SpecQueue(model);
            queue.Pending.Add(new Waiting(request, done));
            queue.Frames += request.Count;
            queue.Flush ??= Task.Run(() => FlushSoonAsync(queue));
        }
        VlmRmMetrics.AddFramesQueuedForClip(request.Count);
        return done.Task;
    }

    private async Task FlushSoonAsync(SpecQueue queue)
    {
        var o = options.Value;
        var deadline = DateTime.UtcNow + o.MaxWait;
        while (DateTime.UtcNow < deadline && QueuedFrames(queue) < o.MaxBatchFrames) await Task.Delay(5);
        List<Waiting> batch;
        lock (_queues)
        {
            batch = [.. queue.Pending];
            queue.Pending.Clear();
            queue.Frames = 0;
            queue.Flush = null;
        }
        VlmRmMetrics.AddFramesQueuedForClip(-batch.Sum(b => b.Request.Count));
        try
        {
            Label(queue.Model, batch);
        }
        catch (Exception e)
        {
            logger.LogError(e, "CLIP labelling failed for {Requests} requests", batch.Count);
            foreach (var waiting in batch) waiting.Done.TrySetException(e);
        }
    }

    private int QueuedFrames(SpecQueue queue)
    {
        lock (_queues) return queue.Frames;
    }

    /// <summary>
    /// Groups of same-size requests holding at most MaxBatchFrames frames (or one request, if larger), then the results
    /// split back per caller: the concatenated frames and every model call stay bounded however many wait.
    /// </summary>
    private void Label(ClipRewardModel model, List<Waiting> batch)
    {
        var limit = options.Value.MaxBatchFrames;
        foreach (var sameSize in batch.GroupBy(b => (b.Request.FrameWidth, b.Request.FrameHeight)))
        {
            var group = new List<Waiting>();
            var frames = 0;
            foreach (var waiting in sameSize)
            {
                if (group.Count > 0 && frames + waiting.Request.Count > limit)
                {
                    LabelTogether(model, group, sameSize.Key.FrameWidth, sameSize.Key.FrameHeight);
                    (group, frames) = ([], 0);
                }
                group.Add(waiting);
                frames += waiting.Request.Count;
            }
            LabelTogether(model, group, sameSize.Key.FrameWidth, sameSize.Key.FrameHeight);
        }
    }

    /// <summary>
    /// Labels <paramref name="items"/> in model calls of at most MaxBatchFrames frames: a group holds more only when one
    /// request does (a 64 MiB message of 224² frames is 445 of them), and that request is labelled in slices.
    /// </summary>
    private void LabelTogether(ClipRewardModel model, List<Waiting> items, int width, int height)
    {
        var total = items.Sum(i => i.Request.Count);
        // A caller alone is labelled from its own message: a paper-sized batch arrives as many such callers.
        var frames = items.Count == 1 ? items[0].Request.Frames : Concatenated(items);
        var rewards = new float[total];
        var embeddings = new float[total * model.EmbedDim];
        var frameBytes = width * height * 3;
        var limit = options.Value.MaxBatchFrames;
        for (var first = 0; first < total; first += limit)
        {
            var count = Math.Min(limit, total - first);
            var clock = Stopwatch.StartNew();
            model.Label(frames.AsSpan(first * frameBytes, count * frameBytes), height, width, rewards.AsSpan(first, count),
                embeddings.AsSpan(first * model.EmbedDim, count * model.EmbedDim));
            VlmRmMetrics.ClipLatency.Record(clock.Elapsed.TotalMilliseconds);
            VlmRmMetrics.ClipBatchSize.Record(count);
            VlmRmMetrics.ClipCallersPerBatch.Record(items.Count);
        }
        var start = 0;
        foreach (var item in items)
        {
            var count = item.Request.Count;
            item.Done.TrySetResult(new RewardResponse(
                rewards.AsSpan(start, count).ToArray(),
                embeddings.AsSpan(start * model.EmbedDim, count * model.EmbedDim).ToArray(),
                items.Count,
                silo.SiloAddress.ToString()));
            start += count;
        }
    }

    private static byte[] Concatenated(List<Waiting> items)
    {
        var frames = new byte[items.Sum(i => (long)i.Request.Frames.Length)];
        var offset = 0;
        foreach (var item in items)
        {
            item.Request.Frames.CopyTo(frames, offset);
            offset += item.Request.Frames.Length;
        }
        return frames;
    }

    private sealed record Waiting(RewardRequest Request, TaskCompletionSource<RewardResponse> Done);

    private sealed class SpecQueue(ClipRewardModel model)
    {
        public ClipRewardModel Model { get; } = model;
        public List<Waiting> Pending { get; } = [];
        public int Frames { get; set; }
        public Task? Flush { get; set; }
    }
}
