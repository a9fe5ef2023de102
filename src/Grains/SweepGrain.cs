using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VlmRm.Abstractions;

namespace VlmRm.Grains;

[GenerateSerializer]
public sealed class SweepState
{
    [Id(0)] public List<RunRequest> Runs { get; set; } = [];
    [Id(1)] public Dictionary<string, RunStatus> Statuses { get; set; } = [];
    [Id(2)] public int MaxConcurrent { get; set; } = 1;
}

/// <summary>
/// Schedules a sweep's runs on learner grains, at most MaxConcurrent at once, and keeps every run's
/// status in persisted state. A timer polls running learners while the sweep is active; a reminder
/// (VlmRm:SweepWatchPeriod) reactivates it wherever the cluster has a silo after its own silo died, so the
/// sweep picks up where its state says it was, and its runs resume, with no client attached. The reminder
/// goes when every run has finished.
/// </summary>
public sealed class SweepGrain(
    [PersistentState("sweep", SiloBuilderExtensions.StorageName)] IPersistentState<SweepState> state,
    Microsoft.Extensions.Options.IOptions<VlmRmSiloOptions> siloOptions,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain, IRemindable
{
    private const string WatchReminder = "watch";

    /// <summary>How long one tick goes on starting queued runs, so a cancel queued behind it waits about that long.</summary>
    private static readonly TimeSpan StartingPerTick = TimeSpan.FromSeconds(2);
    private IGrainTimer? _timer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists && state.State.Statuses.Values.Any(s => !s.IsFinished)) EnsureTimer();
        return Task.CompletedTask;
    }

    public async Task<SweepStatus> SubmitAsync(IReadOnlyList<RunRequest> runs, int maxConcurrent)
    {
        state.State.MaxConcurrent = Math.Max(1, maxConcurrent);
        foreach (var run in runs.Where(r => !state.State.Statuses.ContainsKey(r.RunId)))
        {
            state.State.Runs.Add(run);
            state.State.Statuses[run.RunId] = RunStatus.Queued(run.RunId, 0);
        }
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ISweepIndexGrain>(ISweepIndexGrain.Key).AddAsync(this.GetPrimaryKeyString());
        var period = siloOptions.Value.SweepWatchPeriod;
        await this.RegisterOrUpdateReminder(WatchReminder, period, period);
        // The runs start on the timer, not in this call: a learner's start builds its environment and trainer, a second
        // or more each on a busy silo, and eight of them in one request outlasted the 30 s response timeout (CI, ManySilosTests).
        if (!state.State.Statuses.Values.All(s => s.IsFinished)) EnsureTimer();
        return Status();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WatchReminder) return;
        if (state.State.Statuses.Values.Any(s => !s.IsFinished)) EnsureTimer();
        await TickAsync();
    }

    public Task<SweepStatus> GetStatusAsync() => Task.FromResult(Status());

    public async Task CancelRunAsync(string runId)
    {
        if (!state.State.Statuses.TryGetValue(runId, out var status)) throw new KeyNotFoundException($"Sweep {this.GetPrimaryKeyString()} has no run '{runId}'.");
        if (status.IsFinished) return;
        await GrainFactory.GetGrain<ILearnerGrain>(runId).CancelAsync();
        state.State.Statuses[runId] = status with { State = RunState.Cancelled };
        await state.WriteStateAsync();
    }

    private SweepStatus Status() => new(this.GetPrimaryKeyString(), state.State.Runs.Select(r => state.State.Statuses[r.RunId]).ToList(), state.State.MaxConcurrent);

    private void EnsureTimer() =>
        _timer ??= this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500)) { KeepAlive = true });

    private async Task TickAsync()
    {
        var changed = false;
        foreach (var run in state.State.Runs)
        {
            var status = state.State.Statuses[run.RunId];
            if (status.State != RunState.Running) continue;
            try
            {
                var latest = await GrainFactory.GetGrain<ILearnerGrain>(run.RunId).GetStatusAsync();
                changed |= latest != status;
                state.State.Statuses[run.RunId] = latest;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A learner on a silo that just died: the next call reactivates it elsewhere.
                logger.LogWarning("Status of run {Run} unavailable: {Error}", run.RunId, e.Message);
            }
        }
        var running = state.State.Statuses.Values.Count(s => s.State == RunState.Running);
        // One start after another: activation-count placement puts a learner on the caller's silo until the silos'
        // statistics have arrived, so the eight learners of ManySilosTests started together on a fresh cluster all
        // landed on the sweep's silo. A tick starts runs for StartingPerTick at most; the next tick goes on.
        var starting = Stopwatch.StartNew();
        foreach (var run in state.State.Runs)
        {
            if (running >= state.State.MaxConcurrent || starting.Elapsed > StartingPerTick) break;
            if (state.State.Statuses[run.RunId].State != RunState.Queued) continue;
            if (await StartAsync(run) is not { } started) continue;
            state.State.Statuses[run.RunId] = started;
            changed = true;
            if (started.State == RunState.Running) running++;
        }
        if (changed) await state.WriteStateAsync();
        if (state.State.Statuses.Values.All(s => s.IsFinished))
        {
            _timer?.Dispose();
            _timer = null;
            if (await this.GetReminder(WatchReminder) is { } reminder) await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>
    /// The run's status once its learner has been asked to start it; null leaves it queued for the next tick, where the
    /// cluster did not answer (a silo dying, a call timing out while the learner goes on starting: its StartAsync returns
    /// at once for a run it already holds). Any other error is the run's: it fails with it.
    /// </summary>
    private async Task<RunStatus?> StartAsync(RunRequest run)
    {
        var queued = state.State.Statuses[run.RunId];
        try
        {
            await GrainFactory.GetGrain<ILearnerGrain>(run.RunId).StartAsync(run);
            return queued with { State = RunState.Running };
        }
        catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
            logger.LogWarning("Run {Run} did not start yet: {Problem}", run.RunId, e.Message);
            return null;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {Run} could not start", run.RunId);
            return queued with { State = RunState.Failed, Error = e.Message };
        }
    }
}
