using System.Diagnostics.Metrics;

namespace VlmRm.Grains;

/// <summary>
/// What this silo has done since it started, read from the VlmRm meter (the same instruments /metrics exports):
/// environment steps, CLIP model calls with their frames, merged requests and time, and frame bytes it sent to another
/// silo's reward grain. The runs page shows it; the many-silo benchmark adds it up across silos.
/// </summary>
public sealed class SiloActivity : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _steps;
    private long _clipCalls;
    private long _clipFrames;
    private long _clipRequests;
    private long _clipMicroseconds;
    private long _frameBytesAcrossSilos;

    public SiloActivity()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == VlmRmMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (instrument == VlmRmMetrics.ClipBatchSize)
            {
                Interlocked.Increment(ref _clipCalls);
                Interlocked.Add(ref _clipFrames, value);
            }
            else if (instrument == VlmRmMetrics.ClipCallersPerBatch)
            {
                Interlocked.Add(ref _clipRequests, value);
            }
        });
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument == VlmRmMetrics.EnvironmentSteps) Interlocked.Add(ref _steps, value);
            else if (instrument == VlmRmMetrics.FrameBytesAcrossSilos) Interlocked.Add(ref _frameBytesAcrossSilos, value);
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument == VlmRmMetrics.ClipLatency) Interlocked.Add(ref _clipMicroseconds, (long)(value * 1000));
        });
        _listener.Start();
        VlmRmMetrics.EnsureCreated();
    }

    public long EnvironmentSteps => Interlocked.Read(ref _steps);
    public long ClipCalls => Interlocked.Read(ref _clipCalls);
    public long ClipFrames => Interlocked.Read(ref _clipFrames);
    public double ClipSeconds => Interlocked.Read(ref _clipMicroseconds) / 1e6;
    public long FrameBytesAcrossSilos => Interlocked.Read(ref _frameBytesAcrossSilos);

    /// <summary>Mean frames per model call over <paramref name="maxBatchFrames"/> (RewardBatching:MaxBatchFrames); NaN before the first call.</summary>
    public double ClipFill(int maxBatchFrames) => ClipCalls == 0 ? double.NaN : ClipFrames / (double)ClipCalls / maxBatchFrames;

    /// <summary>Mean labelling requests (chunks of runs' batches) merged into one model call; NaN before the first call.</summary>
    public double ClipRequestsPerCall => ClipCalls == 0 ? double.NaN : Interlocked.Read(ref _clipRequests) / (double)ClipCalls;

    public void Dispose() => _listener.Dispose();
}
