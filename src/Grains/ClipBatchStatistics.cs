using System.Diagnostics.Metrics;

namespace VlmRm.Grains;

/// <summary>
/// This silo's CLIP model calls since it started, read from the VlmRm meter's histograms (frames and callers per call):
/// how full the reward grains' batches run, for the runs page.
/// </summary>
public sealed class ClipBatchStatistics : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _calls;
    private long _frames;
    private long _callers;

    public ClipBatchStatistics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == VlmRmMetrics.MeterName && instrument.Name is "vlmrm.clip.batch_size" or "vlmrm.clip.callers_per_batch") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (instrument.Name == "vlmrm.clip.batch_size")
            {
                Interlocked.Increment(ref _calls);
                Interlocked.Add(ref _frames, value);
            }
            else
            {
                Interlocked.Add(ref _callers, value);
            }
        });
        _listener.Start();
        VlmRmMetrics.EnsureCreated();
    }

    public long Calls => Interlocked.Read(ref _calls);
    public long Frames => Interlocked.Read(ref _frames);

    /// <summary>Mean frames per model call over <paramref name="maxBatchFrames"/> (RewardBatching:MaxBatchFrames); NaN before the first call.</summary>
    public double Fill(int maxBatchFrames) => Calls == 0 ? double.NaN : Frames / (double)Calls / maxBatchFrames;

    /// <summary>Mean labelling requests (chunks of runs' batches) merged into one model call; NaN before the first call.</summary>
    public double CallersPerCall => Calls == 0 ? double.NaN : Interlocked.Read(ref _callers) / (double)Calls;

    public void Dispose() => _listener.Dispose();
}
