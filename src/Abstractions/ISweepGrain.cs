namespace VlmRm.Abstractions;

/// <summary>A sweep (key: its name): expands into runs, schedules them with a concurrency limit, tracks and persists their states.</summary>
public interface ISweepGrain : IGrainWithStringKey
{
    /// <param name="runs">Run requests the client expanded from the sweep file.</param>
    Task<SweepStatus> SubmitAsync(IReadOnlyList<RunRequest> runs, int maxConcurrent);

    /// <remarks>Interleaved: answered while the sweep's timer is starting runs (one start can last until its call times out).</remarks>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<SweepStatus> GetStatusAsync();

    Task CancelRunAsync(string runId);
}
