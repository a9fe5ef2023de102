using Microsoft.Extensions.Logging;
using VlmRm.Abstractions;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains;

[GenerateSerializer]
public sealed class LearnerState
{
    [Id(0)] public RunRequest? Request { get; set; }
    [Id(1)] public RunState State { get; set; } = RunState.Queued;
    [Id(2)] public string? Error { get; set; }
    [Id(3)] public int Activations { get; set; }
    [Id(4)] public RunStatus? Final { get; set; }
}

/// <summary>
/// Owns one run's Algorithm 1 trainer. Training runs in chunks on the thread pool (the grain's scheduler
/// stays free for status calls); checkpoints go through the silo's checkpoint store on the run's
/// schedule and on deactivation; an activation of a running run resumes from its latest checkpoint,
/// which is how a run continues on another silo after its silo died.
/// </summary>
#pragma warning disable CA1001 // The trainer and its token are disposed in OnDeactivateAsync, the grain's end of life.
public sealed class LearnerGrain(
    [PersistentState("learner", SiloBuilderExtensions.StorageName)] IPersistentState<LearnerState> state,
    ICheckpointStore checkpoints,
    ILocalSiloDetails silo,
    ILogger<LearnerGrain> logger) : Grain, ILearnerGrain
{
#pragma warning restore CA1001

    private Algorithm1Trainer? _trainer;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists && state.State.State == RunState.Running && state.State.Request is not null)
        {
            state.State.Activations++;
            await state.WriteStateAsync(cancellationToken);
            Begin();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_stop is null || _loop is null) return;
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        if (_trainer is not null && state.State.State == RunState.Running)
        {
            await Task.Run(() => _trainer.SaveCheckpointAsync(CancellationToken.None), cancellationToken);
        }
        _trainer?.Dispose();
        _stop.Dispose();
    }

    public async Task StartAsync(RunRequest request)
    {
        if (state.RecordExists && state.State.Request?.RunId == request.RunId && state.State.State != RunState.Queued) return;
        state.State.Request = request;
        state.State.State = RunState.Running;
        state.State.Activations = 1;
        await state.WriteStateAsync();
        Begin();
    }

    public Task<RunStatus> GetStatusAsync()
    {
        var s = state.State;
        if (s.Final is not null) return Task.FromResult(s.Final);
        var id = s.Request?.RunId ?? this.GetPrimaryKeyString();
        if (_trainer is null) return Task.FromResult(RunStatus.Queued(id, 0) with { State = s.State, Error = s.Error });
        var p = _trainer.Progress;
        return Task.FromResult(new RunStatus(id, s.State, p.Timesteps, p.TotalTimesteps, p.StepsPerSecond, p.MeanGroundTruthReturn, p.SuccessRate,
            p.MeanLabelledReturn, s.Error, silo.SiloAddress.ToString(), s.Activations - 1));
    }

    public async Task CancelAsync()
    {
        if (_stop is not null) await _stop.CancelAsync();
        await Finish(RunState.Cancelled, null);
    }

    private void Begin()
    {
        var request = state.State.Request!;
        var config = RunConfigLoader.FromJson(request.ConfigJson, request.RunId);
        var reward = config.Reward;
        var spec = new RewardSpec(reward.Labeller, reward.Model, [.. reward.Goal], [.. reward.Baseline], reward.Alpha);
        // Ground-truth rewards are already in the transitions: labelling them needs no grain call (one per
        // labelling batch would cost 0.6× the in-process speed at B = 1; docs/BENCHMARKS.md).
        IRewardLabeller labeller = reward.Labeller == "clip"
            ? new RewardGrainLabeller(GrainFactory.GetGrain<IRewardGrain>(spec.Key), spec, new FrameSize(reward.FrameWidth, reward.FrameHeight))
            : new GroundTruthLabeller();
        _trainer = new Algorithm1Trainer(config, labeller, request.RunId, checkpoints);
        _stop = new CancellationTokenSource();
        _loop = TrainAsync(_trainer, _stop.Token);
    }

    private async Task TrainAsync(Algorithm1Trainer trainer, CancellationToken stop)
    {
        try
        {
            // One dedicated thread for the whole run: the native math libraries under TorchSharp keep a
            // worker team per calling thread, so hopping between pool threads cost a third of the speed.
            await Task.Factory.StartNew(() => TrainOnDedicatedThread(trainer, stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await Finish(RunState.Done, null);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Deactivation or cancellation: the caller decides what to record.
        }
        catch (Exception e)
        {
            logger.LogError(e, "Run {Run} failed", trainer.RunId);
            await Finish(RunState.Failed, e.Message);
        }
    }

    /// <summary>Runs off the grain's scheduler, so blocking on the trainer's awaits (reward grain calls, checkpoint writes) is safe.</summary>
    private void TrainOnDedicatedThread(Algorithm1Trainer trainer, CancellationToken stop)
    {
        if (trainer.TryResumeAsync(stop).GetAwaiter().GetResult())
        {
            logger.LogInformation("Run {Run} resumed at step {Steps} on {Silo}", trainer.RunId, trainer.Timesteps, silo.SiloAddress);
        }
        while (!trainer.IsComplete)
        {
            stop.ThrowIfCancellationRequested();
            trainer.StepAsync(stop).GetAwaiter().GetResult();
        }
        trainer.SaveCheckpointAsync(stop).GetAwaiter().GetResult();
    }

    private async Task Finish(RunState result, string? error)
    {
        if (state.State.Final is not null) return;
        state.State.State = result;
        state.State.Error = error;
        var status = await GetStatusAsync();
        state.State.Final = status with { State = result, Error = error };
        await state.WriteStateAsync();
    }
}
