using System.Diagnostics.Metrics;

namespace VlmRm.TestSupport;

/// <summary>
/// Running sums of the counters and histograms a filter selects, read in-process (benchmarks and tests look at
/// the cluster's own instruments this way, without an exporter).
/// </summary>
public sealed class MeterTotals : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = [];
    private readonly Dictionary<string, long> _largest = [];

    public MeterTotals(Func<Instrument, bool> include)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (include(instrument)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Add(instrument.Name, value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Add(instrument.Name, value));
        _listener.Start();
    }

    public long Total(string name)
    {
        lock (_totals) return _totals.GetValueOrDefault(name);
    }

    /// <summary>The largest single measurement of <paramref name="name"/> so far (0 when none).</summary>
    public long Largest(string name)
    {
        lock (_totals) return _largest.GetValueOrDefault(name);
    }

    /// <summary>Every instrument measured so far, observable ones read now.</summary>
    public IReadOnlyDictionary<string, long> Totals()
    {
        _listener.RecordObservableInstruments();
        lock (_totals) return new Dictionary<string, long>(_totals);
    }

    private void Add(string name, long value)
    {
        lock (_totals)
        {
            _totals[name] = _totals.GetValueOrDefault(name) + value;
            _largest[name] = Math.Max(_largest.GetValueOrDefault(name), value);
        }
    }

    public void Dispose() => _listener.Dispose();
}
