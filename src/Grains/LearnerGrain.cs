using Microsoft.Extensions.Logging;
using Orleans.Placement;
using VlmRm.Abstractions;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Logging;
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
    [Id(5)] public List<string> Log { get; set; } = [];
}

/// <summary>
/// Owns one run's Algorithm 1 trainer; the run's environment copies live in its environment grain (on this
/// silo, unless this activation resumed the run elsewhere). Training runs on a dedicated thread (the grain's
/// scheduler stays free for status calls); checkpoints go through the silo's checkpoint store on the run's
/// schedule and on deactivation; an activation of a running run resumes from its latest checkpoint,
/// which is how a run continues on another silo after its silo died. Placed on the silo with the fewest activations of
/// two picked at random (power of two choices): with Orleans' default placement a sweep's burst of starts put 7 of 8
/// learners, and so their environments, on one of four silos (ManySilosTests).
/// </summary>
[ActivationCountBasedPlacement]
#pragma warning disable CA1001 // The trainer, its TensorBoard log and its token are disposed in OnDeactivateAsync, the grain's end of life.
public sealed class LearnerGrain(
    [PersistentState("learner", SiloBuilderExtensions.StorageName)] IPersistentState<LearnerState> state,
    ICheckpointStore checkpoints,
    Microsoft.Extensions.Options.IOptions<VlmRmSiloOptions> siloOptions,
    ILocalSiloDetails silo,
    ILogger<LearnerGrain> logger) : Grain, ILearnerGrain
{
#pragma warning restore CA1001

    private Algorithm1Trainer? _trainer;

    /// <summary>
    /// Set by the training thread once <see cref="_trainer"/> holds the run (resumed from its checkpoint, or started at
    /// step 0 with none stored): only then may deactivation checkpoint it. A trainer deactivated before that is still
    /// at step 0, and its checkpoint would become the run's latest over the progress stored before.
    /// </summary>
    private volatile bool _trainerHoldsTheRun;

    /// <summary>Where the run stood when its environment was lost, for status calls while a new one is made.</summary>
    private TrainingProgress? _progressBeforeLoss;

    private TensorBoardWriter? _tensorBoard;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private const int LogLines = 500;

    /// <summary>Environments lost in one activation before the run is failed instead of re-created again.</summary>
    private const int MaxEnvironmentsLost = 5;

    private int _environmentsLost;

    /// <summary>The live log (the training thread appends too); each line is written to the grain's state as it comes.</summary>
    private readonly List<string> _log = [];

    /// <summary>One state write at a time: the log's writes and the run's own (start, finish) share the state's ETag.</summary>
    private readonly SemaphoreSlim _writing = new(1, 1);

    /// <summary>The activation's scheduler, where the training thread's log lines are written to the grain's state.</summary>
    private TaskScheduler _grainScheduler = TaskScheduler.Default;

    private bool _logWriteQueued;

    /// <summary>Set once another activation has written the run's state: this one stops and writes nothing more.</summary>
    private bool _superseded;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _grainScheduler = TaskScheduler.Current;
        _log.AddRange(state.State.Log);
        if (state.RecordExists && state.State.State == RunState.Running && state.State.Request is not null)
        {
            state.State.Activations++;
            await PersistAsync();
            await BeginAsync();
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
        if (_trainer is not null && _trainerHoldsTheRun && state.State.State == RunState.Running && !_superseded)
        {
            try
            {
                await Task.Run(() => _trainer.SaveCheckpointAsync(CancellationToken.None), cancellationToken);
            }
            catch (Exception e)
            {
                // The environment grain may already be gone (its silo shutting down too): the run resumes from
                // its previous checkpoint, at most one checkpoint interval behind.
                logger.LogWarning(e, "Run {Run} could not checkpoint on deactivation", _trainer.RunId);
                Log($"no checkpoint on deactivation ({e.Message}); the run resumes from its previous one");
            }
        }
        _trainer?.Dispose();
        _tensorBoard?.Dispose();
        _stop.Dispose();
        await WriteLogAsync();
    }

    public async Task StartAsync(RunRequest request)
    {
        if (state.RecordExists && state.State.Request?.RunId == request.RunId && state.State.State != RunState.Queued)
        {
            // Started before; begun again where that start could not build its trainer (its environment's silo unreachable).
            if (state.State.State == RunState.Running && _loop is null) await BeginAsync();
            return;
        }
        state.State.Request = request;
        state.State.State = RunState.Running;
        state.State.Activations = 1;
        await PersistAsync();
        await BeginAsync();
    }

    public Task<RunStatus> GetStatusAsync()
    {
        var s = state.State;
        if (s.Final is not null) return Task.FromResult(s.Final);
        var id = s.Request?.RunId ?? this.GetPrimaryKeyString();
        if ((_trainer?.Progress ?? _progressBeforeLoss) is not { } p) return Task.FromResult(RunStatus.Queued(id, 0) with { State = s.State, Error = s.Error });
        return Task.FromResult(new RunStatus(id, s.State, p.Timesteps, p.TotalTimesteps, p.StepsPerSecond, p.MeanGroundTruthReturn, p.SuccessRate,
            p.MeanLabelledReturn, s.Error, silo.SiloAddress.ToString(), s.Activations - 1));
    }

    public Task<IReadOnlyList<string>> GetLogAsync()
    {
        lock (_log) return Task.FromResult<IReadOnlyList<string>>([.. _log]);
    }

    public async Task CancelAsync()
    {
        if (_stop is not null) await _stop.CancelAsync();
        await Finish(RunState.Cancelled, null);
    }

    /// <summary>
    /// Starts this activation's run: one loop for the activation's whole life, which a deactivation cancels and awaits,
    /// and which re-creates a lost environment itself. (When the re-creation started a second loop, a silo's shutdown
    /// awaited the first, checkpointed and disposed the trainer under the second, and the run failed with "Cannot
    /// access a closed Stream": found by the chaos test.)
    /// </summary>
    private async Task BeginAsync()
    {
        await CreateTrainerAsync();
        _stop = new CancellationTokenSource();
        _loop = RunAsync(_stop.Token);
    }

    private async Task CreateTrainerAsync()
    {
        var request = state.State.Request!;
        var config = RunConfigLoader.FromJson(request.ConfigJson, request.RunId);
        var environmentGrain = GrainFactory.GetGrain<IEnvironmentGrain>(request.RunId);
        var environment = await RemoteVectorEnvironment.CreateAsync(environmentGrain, new EnvironmentRequest(request.RunId, request.ConfigJson));
        // Ground-truth rewards are already in the transitions: labelling them needs no grain call (one per
        // labelling batch would cost 0.6× the in-process speed at B = 1; docs/BENCHMARKS.md).
        IRewardLabeller labeller = config.Reward.Labeller == LabellerKind.Clip ? new EnvironmentGrainLabeller(environmentGrain, request.RunId) : new GroundTruthLabeller();
        // Curves per run under the silo's data folder (every activation adds an events file; TensorBoard merges them).
        _tensorBoard = new TensorBoardWriter(Path.Combine(siloOptions.Value.DataDirectory, "tensorboard", request.RunId));
        _trainer = new Algorithm1Trainer(config, labeller, request.RunId, new FencedCheckpointStore(checkpoints, ConfirmOwnershipAsync), _tensorBoard, environment);
        Log($"activation {state.State.Activations} on {silo.SiloAddress}: {config.NumEnvs}×{config.Env}, {ConfigSpelling.Of(config.Algorithm)}, {ConfigSpelling.Of(config.Reward.Labeller)} reward, {config.TotalTimesteps:N0} steps; environment on {environment.Silo}");
    }

    private async Task RunAsync(CancellationToken stop)
    {
        while (true)
        {
            var trainer = _trainer!;
            try
            {
                // One dedicated thread for the whole run: the native math libraries under TorchSharp keep a
                // worker team per calling thread, so hopping between pool threads cost a third of the speed.
                await Task.Factory.StartNew(() => TrainOnDedicatedThread(trainer, stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                await Finish(RunState.Done, null);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Deactivation or cancellation: the caller decides what to record.
                return;
            }
            catch (Exception e) when (stop.IsCancellationRequested)
            {
                // The silo is stopping and the run's last step failed with it (its environment grain deactivated first): not
                // the run's end. It resumes from its checkpoint on its next activation (found by the chaos test, where a
                // SIGTERM failed the run here).
                logger.LogWarning("Run {Run} stopped with its silo: {Problem}", trainer.RunId, e.Message);
                Log($"stopped with its silo ({e.Message})");
                return;
            }
            catch (CheckpointOwnershipLostException e)
            {
                // Not the run's end, and nothing of it to record: the activation that owns the run does that.
                _superseded = true;
                logger.LogWarning("Run {Run} stopped in this activation on {Silo}: {Problem}", trainer.RunId, silo.SiloAddress, e.Message);
                Log($"stopped without writing: {e.Message}");
                DeactivateOnIdle();
                return;
            }
            catch (Exception e) when (EnvironmentLost(e) && ++_environmentsLost <= MaxEnvironmentsLost)
            {
                logger.LogWarning("Run {Run} lost its environment ({Problem}); re-creating it from the latest checkpoint", trainer.RunId, e.Message);
                Log($"environment lost ({e.Message}); re-creating it and resuming from the latest checkpoint");
            }
            catch (Exception e)
            {
                logger.LogError(e, "Run {Run} failed", trainer.RunId);
                await Finish(RunState.Failed, e.Message);
                return;
            }
            DisposeTrainer();
            if (!await RecreateTrainerAsync(stop)) return;
        }
    }

    /// <summary>
    /// The environment's part of the cluster went away under a run that goes on: its environment grain's silo stopped
    /// (a fresh activation has no copies), or that silo, or the silo of the reward grain it labels through, died and
    /// calls to it fail until membership declares it dead (found by the chaos run: a CLIP run failed this way).
    /// </summary>
    private static bool EnvironmentLost(Exception e) => e is EnvironmentLostException or SiloUnavailableException or OrleansMessageRejectionException;

    /// <summary>The trainer whose environment was lost, gone; its progress stays visible to status calls meanwhile.</summary>
    private void DisposeTrainer()
    {
        _trainerHoldsTheRun = false;
        _progressBeforeLoss = _trainer?.Progress;
        _trainer?.Dispose();
        _trainer = null;
        _tensorBoard?.Dispose();
        _tensorBoard = null;
    }

    /// <summary>
    /// A new environment and trainer for the run, which resumes from its checkpoint, after a wait that lets membership
    /// drop a dead silo (calls routed to it fail until then). False when the activation is stopping meanwhile, or the run
    /// loses its environment too often or fails otherwise (then it ends failed).
    /// </summary>
    private async Task<bool> RecreateTrainerAsync(CancellationToken stop)
    {
        while (true)
        {
            try
            {
                await Task.Delay(StoreBackoff.After(_environmentsLost), stop);
                await CreateTrainerAsync();
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e) when (EnvironmentLost(e) && ++_environmentsLost <= MaxEnvironmentsLost)
            {
                Log($"environment still unreachable ({e.Message}); trying again");
            }
            catch (Exception e)
            {
                logger.LogError(e, "Run {Run} could not re-create its environment", state.State.Request?.RunId);
                await Finish(RunState.Failed, e.Message);
                return false;
            }
        }
    }

    /// <summary>
    /// Calls the checkpoint store until it answers: blob storage down as the run starts, moves silo or ends. Starting
    /// afresh would throw the run's progress away, and failing would end a run that the store's return lets continue (the
    /// chaos test found a run that completed during an outage failing at its last save). Damaged checkpoints
    /// (<see cref="InvalidDataException"/>) and an activation that lost the run still end the call.
    /// </summary>
    private T UntilTheStoreAnswers<T>(Func<T> call, string runId, string waiting, CancellationToken stop)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return call();
            }
            catch (Exception e) when (e is not (OperationCanceledException or InvalidDataException or CheckpointOwnershipLostException))
            {
                var wait = StoreBackoff.After(attempt);
                logger.LogWarning("Run {Run} cannot reach its checkpoint store ({Problem}); retrying in {Wait} s", runId, e.Message, wait.TotalSeconds);
                if (attempt == 1) Log($"checkpoint store unreachable ({e.Message}); {waiting}");
                Task.Delay(wait, stop).GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Runs off the grain's scheduler, so blocking on the trainer's awaits (reward grain calls, checkpoint writes) is safe.</summary>
    private void TrainOnDedicatedThread(Algorithm1Trainer trainer, CancellationToken stop)
    {
        if (UntilTheStoreAnswers(() => trainer.TryResumeAsync(stop).GetAwaiter().GetResult(), trainer.RunId, "waiting for it before resuming", stop))
        {
            logger.LogInformation("Run {Run} resumed at step {Steps} on {Silo}", trainer.RunId, trainer.Timesteps, silo.SiloAddress);
            Log($"resumed from the checkpoint at step {trainer.Timesteps:N0}");
            if (trainer.PointerBehind is { } behind) Log($"resumed from the newest stored checkpoint: {behind} (a save cut short before its pointer, or a second writer)");
            foreach (var damaged in trainer.PassedOverCheckpoints)
            {
                logger.LogWarning("Run {Run} passed over a damaged checkpoint: {Damage}", trainer.RunId, damaged);
                Log($"passed over a damaged checkpoint: {damaged}");
            }
        }
        else
        {
            // Said, not left to silence: a run that should have resumed and did not is then visible in its events.
            Log(FreshStart);
        }
        _trainerHoldsTheRun = true;
        var (nextReport, failures) = (NextTenth(trainer), 0);
        while (!trainer.IsComplete)
        {
            stop.ThrowIfCancellationRequested();
            trainer.StepAsync(stop).GetAwaiter().GetResult();
            if (trainer.Timesteps >= nextReport)
            {
                var p = trainer.Progress;
                Log($"step {p.Timesteps:N0}/{p.TotalTimesteps:N0}: {p.StepsPerSecond:N0} steps/s, ground-truth return {p.MeanGroundTruthReturn:F1}, success {p.SuccessRate:P0}, labelled return {p.MeanLabelledReturn:F2}");
                nextReport = NextTenth(trainer);
            }
            if (trainer.CheckpointFailures != failures)
            {
                failures = trainer.CheckpointFailures;
                Log($"checkpoint write failed ({failures} so far); retrying with backoff while training goes on");
            }
        }
        UntilTheStoreAnswers(() => trainer.SaveCheckpointAsync(stop).GetAwaiter().GetResult(), trainer.RunId, "waiting for it to store the last checkpoint", stop);
    }

    private async Task Finish(RunState result, string? error)
    {
        if (state.State.Final is not null) return;
        state.State.State = result;
        state.State.Error = error;
        var status = await GetStatusAsync();
        state.State.Final = status with { State = result, Error = error };
        Log(error is null ? $"{result.ToString().ToLowerInvariant()} at step {status.Timesteps:N0}" : $"{result.ToString().ToLowerInvariant()}: {error}");
        await PersistAsync();
    }

    private static long NextTenth(Algorithm1Trainer trainer)
    {
        var tenth = Math.Max(1, trainer.Config.TotalTimesteps / 10);
        return (trainer.Timesteps / tenth + 1) * tenth;
    }

    /// <summary>The event of an activation that found no checkpoint to resume from.</summary>
    public const string FreshStart = "started at step 0: the checkpoint store holds no checkpoint of this run";

    /// <summary>
    /// Appends a timestamped line to the run's log (the oldest lines go past <see cref="LogLines"/>) and queues a write of
    /// the log to the grain's state on the activation's scheduler: a silo killed a moment later loses no line of it.
    /// </summary>
    private void Log(string line)
    {
        lock (_log)
        {
            _log.Add($"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {line}");
            if (_log.Count > LogLines) _log.RemoveRange(0, _log.Count - LogLines);
            if (_logWriteQueued) return;
            _logWriteQueued = true;
        }
        _ = Task.Factory.StartNew(WriteLogAsync, CancellationToken.None, TaskCreationOptions.None, _grainScheduler).Unwrap();
    }

    private async Task WriteLogAsync()
    {
        lock (_log) _logWriteQueued = false;
        try
        {
            await PersistAsync();
        }
        catch (Exception e)
        {
            // The lines stay in memory and go with the next write; the run is not stopped for its log.
            logger.LogWarning("Run {Run} could not write its events: {Problem}", state.State.Request?.RunId, e.Message);
        }
    }

    /// <summary>
    /// The fence in front of every checkpoint write and deletion: the run's state is written with the ETag this activation
    /// read or last wrote, which fails once any other activation of the run has written it (each writes on activation).
    /// A replaced activation (its silo cut off from the cluster, then back) thus stops at its next checkpoint instead of
    /// storing its own beside the owner's. Runs on the activation's scheduler, like every state write.
    /// </summary>
    private Task ConfirmOwnershipAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(async () =>
        {
            try
            {
                await PersistAsync();
            }
            catch (Exception e) when (Superseded(e))
            {
                throw new CheckpointOwnershipLostException(
                    $"activation {state.State.Activations} on {silo.SiloAddress} no longer owns run {state.State.Request?.RunId}: another activation has written its state since", e);
            }
        }, cancellationToken, TaskCreationOptions.None, _grainScheduler).Unwrap();

    private static bool Superseded(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is Orleans.Storage.InconsistentStateException) return true;
        }
        return false;
    }

    private async Task PersistAsync()
    {
        await _writing.WaitAsync();
        try
        {
            lock (_log) state.State.Log = [.. _log];
            await state.WriteStateAsync();
        }
        finally
        {
            _writing.Release();
        }
    }
}
