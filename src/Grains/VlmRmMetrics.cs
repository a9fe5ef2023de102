using System.Diagnostics.Metrics;

namespace VlmRm.Grains;

/// <summary>
/// The cluster's OpenTelemetry instruments (meter "VlmRm"): steps/s and frames/s are rates of the step and
/// frame counters; CLIP batch sizes and latencies are histograms; queue depths are observed gauges.
/// </summary>
public static class VlmRmMetrics
{
    public const string MeterName = "VlmRm";

    private static readonly Meter Meter = new(MeterName);
    private static long _framesAwaitingLabels;
    private static long _framesQueuedForClip;

    public static readonly Counter<long> EnvironmentSteps = Meter.CreateCounter<long>("vlmrm.env.steps", "{step}", "Environment transitions stepped by environment grains");
    public static readonly Counter<long> FramesRendered = Meter.CreateCounter<long>("vlmrm.env.frames", "{frame}", "Frames rendered for CLIP labelling");
    public static readonly Counter<long> StepsWhileLabelling = Meter.CreateCounter<long>("vlmrm.env.steps_while_labelling", "{step}", "Environment transitions stepped while the run's previous batch was being labelled (overlapped labelling)");
    public static readonly Counter<long> FrameBytesAcrossSilos = Meter.CreateCounter<long>("vlmrm.reward.frame_bytes_across_silos", "By", "Frame bytes sent to a reward grain on another silo");
    public static readonly Histogram<int> ClipBatchSize = Meter.CreateHistogram<int>("vlmrm.clip.batch_size", "{frame}", "Frames per CLIP model call");
    public static readonly Histogram<double> ClipLatency = Meter.CreateHistogram<double>("vlmrm.clip.latency", "ms", "Wall time of one CLIP model call");
    public static readonly Histogram<int> ClipCallersPerBatch = Meter.CreateHistogram<int>("vlmrm.clip.callers_per_batch", "{request}", "Requests merged into one CLIP model call");

    static VlmRmMetrics()
    {
        Meter.CreateObservableGauge("vlmrm.env.frames_awaiting_labels", () => Interlocked.Read(ref _framesAwaitingLabels), "{frame}", "Frames environment grains hold until the learner asks for labels");
        Meter.CreateObservableGauge("vlmrm.reward.queue_depth", () => Interlocked.Read(ref _framesQueuedForClip), "{frame}", "Frames waiting in reward batch queues");
    }

    /// <summary>
    /// Creates the meter now, so exporters list the gauges before the first run: calling any member runs the
    /// static constructor (an explicit one, so the type is not beforefieldinit).
    /// </summary>
    public static void EnsureCreated()
    {
    }

    public static void AddFramesAwaitingLabels(long delta) => Interlocked.Add(ref _framesAwaitingLabels, delta);

    public static void AddFramesQueuedForClip(long delta) => Interlocked.Add(ref _framesQueuedForClip, delta);
}
