using System.Diagnostics;
using TorchSharp;
using VlmRm.Envs;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Logging;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl;

/// <summary>Progress of a run, for progress bars and status queries.</summary>
public sealed record TrainingProgress(long Timesteps, long TotalTimesteps, double StepsPerSecond, long Episodes,
    double MeanGroundTruthReturn, double SuccessRate, double MeanLabelledReturn)
{
    public double Fraction => TotalTimesteps == 0 ? 1 : Math.Min(1, Timesteps / (double)TotalTimesteps);
}

/// <summary>Deterministic-policy evaluation on the ground-truth reward.</summary>
public sealed record EvaluationResult(double MeanReturn, double SuccessRate, IReadOnlyList<double> Returns);

/// <summary>
/// Paper appendix C, Algorithm 1 ("SAC with CLIP reward model"), for SAC or DQN and any labeller:
///   repeat
///     sample (s_t, a_t, s_{t+1}) with the current policy; append it to the unlabelled buffer B
///     if |B| ≥ batch size: label all of B in one call (CLIP: embed the frames of s_{t+1}, score them
///       against the task embedding, Eq. 2–3), move the labelled transitions to the replay buffer D
///     perform the algorithm's gradient steps on D (every train_freq steps once learning has started)
/// The labelling step is the run's schedule (reward.labelling): <see cref="SynchronousLabelling"/> waits for B's
/// rewards as the paper does; <see cref="OverlappedLabelling"/> collects and trains on while B is labelled.
/// Frames are rendered only when the labeller asks for pixels. Checkpoints (every checkpoint_interval
/// steps) first label what B holds, then store everything a resumed run needs to continue the same curve.
/// </summary>
public sealed class Algorithm1Trainer : IDisposable
{
    private readonly RunConfig _config;
    private readonly IRewardLabeller _labeller;
    private readonly ICheckpointStore? _store;
    private readonly ITrainingLog? _log;
    private readonly IVectorEnvironment _env;
    private readonly IOffPolicyAlgorithm _algorithm;
    private readonly ReplayBuffer _labelled;
    private readonly ILabellingSchedule _labelling;
    private readonly EpisodeStatistics _statistics;
    private readonly Rng _rng;
    private readonly float[] _observations;
    private readonly float[] _bufferActions;
    private readonly float[] _environmentActions;
    private readonly double[] _labelledEpisodeReturns;
    private readonly byte[] _frames;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Where this trainer's own steps began (a resumed run's checkpoint), so its speed counts only the steps it took.</summary>
    private (long Timesteps, TimeSpan At) _speedFrom;
    private long _vectorSteps;
    private long _lastCheckpoint;
    private double _bestTrainingReward = double.NegativeInfinity;
    private TrainStatistics _lastTrain = TrainStatistics.Empty;
    private TimeSpan _checkpointRetryAt = TimeSpan.Zero;
    private int _checkpointFailures;

    /// <summary>reward.embedding_log: the rows labelled since the last checkpoint, and the step they follow.</summary>
    private readonly EmbeddingLog? _embeddingLog;
    private long _embeddingLogFrom;

    /// <summary>reward.schedule entries in force (those at or before the current step).</summary>
    private int _rewardChanges;

    /// <param name="environment">
    /// Copies stepped elsewhere (the cluster's environment grain), already reset; null makes the run's own
    /// <see cref="VectorEnv"/> here, rendering at the labeller's frame size.
    /// </param>
    public Algorithm1Trainer(RunConfig config, IRewardLabeller labeller, string runId = "run", ICheckpointStore? store = null, ITrainingLog? log = null,
        IVectorEnvironment? environment = null)
    {
        _config = config;
        _labeller = labeller;
        _store = store;
        _log = log;
        RunId = runId;
        Device = RunFactory.SelectDevice(config.Device);
        torch.set_num_threads(config.TorchThreads > 0 ? config.TorchThreads : RunFactory.DefaultTorchThreads);

        var frames = labeller.Frames;
        _env = environment ?? RunFactory.MakeEnvironment(config, frames);
        if (_env.Count != config.NumEnvs) throw new ArgumentException($"The run asks for {config.NumEnvs} environment copies; the environment given has {_env.Count}.", nameof(environment));
        var spec = _env.Spec;
        _algorithm = RunFactory.CreateAlgorithm(config, spec, Device);
        _labelled = new ReplayBuffer(config.OffPolicy.BufferSize, spec.ObservationSize, spec.ActionSize);
        _labelling = RunFactory.CreateLabellingSchedule(config, labeller, spec);
        _statistics = new EpisodeStatistics(config.StatsWindow);
        _rng = new Rng((ulong)config.Seed);
        _observations = new float[config.NumEnvs * spec.ObservationSize];
        _bufferActions = new float[config.NumEnvs * spec.ActionSize];
        _environmentActions = new float[config.NumEnvs * spec.ActionSize];
        _labelledEpisodeReturns = new double[config.NumEnvs];
        _frames = frames is { } f ? new byte[checked(config.NumEnvs * f.Bytes)] : [];
        _embeddingLog = config.Reward.EmbeddingLog && store is not null ? new EmbeddingLog() : null;
    }

    public string RunId { get; }
    public torch.Device Device { get; }
    public long Timesteps { get; private set; }
    public RunConfig Config => _config;
    public EnvSpec EnvSpec => _env.Spec;
    public IOffPolicyAlgorithm Algorithm => _algorithm;
    public TrainStatistics LastTrainStatistics => _lastTrain;

    /// <summary>Transitions in the labelled replay buffer D.</summary>
    public int LabelledTransitions => _labelled.Count;
    public bool IsComplete => Timesteps >= _config.TotalTimesteps;

    public TrainingProgress Progress => new(Timesteps, _config.TotalTimesteps, (Timesteps - _speedFrom.Timesteps) / Math.Max(1e-9, (_clock.Elapsed - _speedFrom.At).TotalSeconds),
        _statistics.EpisodesFinished, _statistics.MeanGroundTruthReturn, _statistics.SuccessRate, _statistics.MeanLabelledReturn);

    /// <summary>Trains until total_timesteps (or cancellation), checkpointing on schedule and at the end.</summary>
    public async Task<TrainingProgress> RunAsync(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // A stop is taken between steps, never inside one, and the checkpoint after it is written whatever the token
        // says: an interrupted run (Ctrl+C, SIGTERM) stops in a state it can store, loses nothing, and resumes.
        var lastReport = TimeSpan.Zero;
        while (!IsComplete && !cancellationToken.IsCancellationRequested)
        {
            await StepAsync(CancellationToken.None);
            if (progress is not null && _clock.Elapsed - lastReport > TimeSpan.FromMilliseconds(250))
            {
                lastReport = _clock.Elapsed;
                progress.Report(Progress);
            }
        }
        await FlushAsync(CancellationToken.None);
        if (_store is not null) await SaveCheckpointAsync(CancellationToken.None);
        _log?.Flush();
        progress?.Report(Progress);
        return Progress;
    }

    /// <summary>One vectorized environment step of Algorithm 1, with labelling, training and checkpointing when due.</summary>
    public async Task StepAsync(CancellationToken cancellationToken = default)
    {
        var mode = Timesteps < _config.OffPolicy.LearningStarts ? ActMode.Random : ActMode.Explore;
        _algorithm.Act(_env.Observations, _env.Count, _bufferActions, mode, Timesteps, _rng);
        _env.Observations.CopyTo(_observations, 0);
        _algorithm.ToEnvironmentActions(_bufferActions, _environmentActions);
        await _env.StepAsync(_environmentActions, _frames, cancellationToken);
        Timesteps += _env.Count;
        _vectorSteps++;
        _algorithm.OnTimesteps(Timesteps);

        var spec = _env.Spec;
        var frameBytes = _labeller.Frames?.Bytes ?? 0;
        var unlabelled = _labelling.Collecting;
        for (var i = 0; i < _env.Count; i++)
        {
            var episodeEnd = _env.Terminated[i] || _env.Truncated[i];
            var next = (episodeEnd ? _env.FinalObservations : _env.Observations).AsSpan(i * spec.ObservationSize, spec.ObservationSize);
            unlabelled.Add(
                _observations.AsSpan(i * spec.ObservationSize, spec.ObservationSize),
                _bufferActions.AsSpan(i * spec.ActionSize, spec.ActionSize),
                next, _env.Terminated[i], episodeEnd, _env.Rewards[i], _env.Successes[i], i,
                frameBytes == 0 ? default : _frames.AsSpan(i * frameBytes, frameBytes));
            if (episodeEnd) _statistics.AddEpisode(_env.CompletedReturns[i], _env.Successes[i], _env.CompletedLengths[i]);
        }
        if (unlabelled.Count + _env.Count > unlabelled.Capacity) await _labelling.OnFullAsync(StoreLabelled, cancellationToken);

        if (Timesteps > _config.OffPolicy.LearningStarts && _vectorSteps % _config.OffPolicy.TrainFreq == 0 && _labelled.Count > 0 && _config.OffPolicy.GradientSteps > 0)
        {
            _lastTrain = _algorithm.Train(_labelled, _config.OffPolicy.GradientSteps, _rng);
            LogTraining();
        }
        if (RewardChangesAt(Timesteps) > _rewardChanges) await ChangeRewardAsync(cancellationToken);
        if (_store is not null && _config.CheckpointInterval > 0 && Timesteps - _lastCheckpoint >= _config.CheckpointInterval && _clock.Elapsed >= _checkpointRetryAt)
        {
            await SaveCheckpointOrRetryLaterAsync(cancellationToken);
        }
    }

    /// <summary>
    /// reward.schedule (beyond the paper): what B holds is labelled with the reward it was collected under, then D is
    /// re-rewarded from its stored embeddings with the reward now in force, which labels every batch from here on.
    /// </summary>
    private async Task ChangeRewardAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        RelabelReplayBuffer(await _labeller.ChangeRewardAsync(_config.Reward.At(Timesteps), cancellationToken));
        _rewardChanges = RewardChangesAt(Timesteps);
        _log?.Scalar("reward/schedule_entries", _rewardChanges, Timesteps);
    }

    private int RewardChangesAt(long step) => _config.Reward.Schedule.Count(c => c.At <= step);

    /// <summary>Labels every transition not yet in D and moves it there.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default) => await _labelling.DrainAsync(StoreLabelled, cancellationToken);

    /// <summary>Algorithm 1's move of a labelled batch from B to D, refused whole when a reward is not a finite number.</summary>
    private void StoreLabelled(UnlabelledBuffer transitions, ReadOnlySpan<float> rewards, EmbeddingBatch? embeddings)
    {
        if (embeddings is { Width: 0 } && transitions.Count > 0)
        {
            throw new InvalidDataException($"Labeller {_labeller.Name} returned no image embeddings, and this run keeps them (reward.keep_embeddings); no transition of this batch was stored.");
        }
        var count = transitions.Count;
        for (var j = 0; j < count; j++)
        {
            if (!float.IsFinite(rewards[j]))
            {
                throw new InvalidDataException($"Labeller {_labeller.Name} returned {rewards[j]} for transition {j} of {count}; no transition of this batch was stored.");
            }
        }
        var spec = _env.Spec;
        double sum = 0;
        for (var j = 0; j < count; j++)
        {
            var reward = rewards[j];
            _labelled.Add(
                transitions.Observations.AsSpan(j * spec.ObservationSize, spec.ObservationSize),
                transitions.Actions.AsSpan(j * spec.ActionSize, spec.ActionSize),
                reward,
                transitions.NextObservations.AsSpan(j * spec.ObservationSize, spec.ObservationSize),
                transitions.Terminated[j],
                embeddings is null ? default : embeddings.Row(j),
                transitions.Successes[j]);
            if (embeddings is not null) _embeddingLog?.Add(embeddings.Row(j), transitions.Successes[j]);
            sum += reward;
            var env = transitions.EnvIndices[j];
            _labelledEpisodeReturns[env] += reward;
            if (transitions.EpisodeEnds[j])
            {
                _statistics.AddLabelledReturn(_labelledEpisodeReturns[env]);
                _labelledEpisodeReturns[env] = 0;
            }
        }
        _log?.Scalar("reward/labelled_mean", sum / count, Timesteps);
        _log?.Scalar(TrainingScalars.TrainingReturn, _statistics.MeanLabelledReturn, Timesteps);
        _log?.Scalar(TrainingScalars.GroundTruthReturn, _statistics.MeanGroundTruthReturn, Timesteps);
        _log?.Scalar(TrainingScalars.SuccessRate, _statistics.SuccessRate, Timesteps);
        _log?.Scalar(TrainingScalars.EpisodeLength, _statistics.MeanLength, Timesteps);
        _log?.Scalar("time/fps", Progress.StepsPerSecond, Timesteps);
    }

    /// <summary>Labels B, then stores a checkpoint; it is marked best when its training reward is the highest so far.</summary>
    public async Task<CheckpointInfo> SaveCheckpointAsync(CancellationToken cancellationToken = default)
    {
        if (_store is null) throw new InvalidOperationException("This trainer has no checkpoint store.");
        await FlushAsync(cancellationToken);
        var reward = _statistics.MeanLabelledReturn;
        var isBest = double.IsFinite(reward) && reward > _bestTrainingReward;
        // The checkpoint records the bookkeeping as it stands once it is stored; the trainer moves its own only after the
        // store has it, so a failed save is retried after its backoff (not a checkpoint interval later) and best is
        // never a checkpoint that was not stored.
        var counters = new RunCounters(Timesteps, _vectorSteps, Timesteps, isBest ? reward : _bestTrainingReward);
        // Spooled to a temporary file, then streamed to the store: a checkpoint with a 1M-transition Humanoid replay
        // buffer is 3 GB, over what a MemoryStream or one upload of a byte[] can hold.
        // The embedding log's segment first: a checkpoint never exists without the log up to its step.
        if (_embeddingLog is { Pending: > 0 } log) await log.SaveSegmentAsync(_store, RunId, _embeddingLogFrom, Timesteps, cancellationToken);
        CheckpointInfo info;
        await using (var spool = new FileStream(Path.Combine(Path.GetTempPath(), $"vlmrm-{Environment.ProcessId}-{Guid.NewGuid():N}.ckpt"), FileMode.CreateNew, FileAccess.ReadWrite,
                         FileShare.None, bufferSize: 1 << 20, FileOptions.DeleteOnClose | FileOptions.Asynchronous))
        {
            await WriteCheckpointAsync(spool, counters, cancellationToken);
            spool.Position = 0;
            info = await _store.SaveAsync(RunId, $"step-{Timesteps:D12}", spool, Timesteps, reward, isBest, cancellationToken);
        }
        (_lastCheckpoint, _bestTrainingReward) = (counters.LastCheckpoint, counters.BestTrainingReward);
        _embeddingLog?.Clear();
        _embeddingLogFrom = Timesteps;
        try
        {
            await CheckpointRetention.PruneAsync(_store, RunId, _config.KeepCheckpoints, cancellationToken);
        }
        catch (Exception e) when (e is not (OperationCanceledException or CheckpointOwnershipLostException))
        {
            // The checkpoint is stored; what expired is deleted after the next one.
            _log?.Scalar("checkpoint/prune_failures", 1, Timesteps);
        }
        _log?.Flush();
        return info;
    }

    /// <summary>Number of checkpoint writes that failed and were retried later.</summary>
    public int CheckpointFailures => _checkpointFailures;

    /// <summary>
    /// A store outage (blob storage unreachable, disk full) must not stop training: the checkpoint is
    /// retried with exponential backoff (1 s … 60 s) while the run goes on.
    /// </summary>
    private async Task SaveCheckpointOrRetryLaterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SaveCheckpointAsync(cancellationToken);
            _checkpointRetryAt = TimeSpan.Zero;
        }
        catch (Exception e) when (e is not (OperationCanceledException or InvalidDataException or CheckpointOwnershipLostException))
        {
            _checkpointFailures++;
            var delay = StoreBackoff.After(_checkpointFailures);
            _checkpointRetryAt = _clock.Elapsed + delay;
            _log?.Scalar("checkpoint/failures", _checkpointFailures, Timesteps);
        }
    }

    /// <summary>
    /// Re-rewards the replay buffer D from its stored embeddings with <paramref name="reward"/> (a run that keeps its
    /// embeddings; no frame is rendered and no image tower runs), as the start of a run that trains on that reward. The
    /// training reward of the paper's checkpoint selection starts over: returns measured under the old reward and the
    /// best of them no longer compare. Episodes in flight keep the old reward for the steps they already took.
    /// </summary>
    public void RelabelReplayBuffer(Clip.Reward.ClipReward reward)
    {
        if (_labelling.Pending > 0) throw new InvalidOperationException("Label the unlabelled buffer before re-rewarding D (FlushAsync).");
        _labelled.Relabel(reward);
        _statistics.ClearLabelledReturns();
        _bestTrainingReward = double.NegativeInfinity;
    }

    /// <summary>The labelled replay buffer D, for reading (evaluation on the states a run visited).</summary>
    public ReplayBuffer ReplayBuffer => _labelled;

    /// <summary>Set when the last resume found the latest pointer behind a newer stored checkpoint (<see cref="LoadedCheckpoint.PointerBehind"/>).</summary>
    public string? PointerBehind { get; private set; }

    /// <summary>Damaged checkpoints the last resume passed over to reach the newest intact one, each with what is wrong.</summary>
    public IReadOnlyList<string> PassedOverCheckpoints { get; private set; } = [];

    /// <summary>Continues from the latest intact checkpoint of this run, if there is one.</summary>
    public async Task<bool> TryResumeAsync(CancellationToken cancellationToken = default)
    {
        if (_store is null) return false;
        using var latest = await _store.LoadLatestAsync(RunId, cancellationToken);
        if (latest is null) return false;
        await RestoreCheckpointAsync(latest.Content, cancellationToken);
        PassedOverCheckpoints = latest.PassedOver;
        PointerBehind = latest.PointerBehind;
        return true;
    }

    /// <summary>The run's whole state (policy, optimizers, environments, statistics, replay buffer when configured) written to <paramref name="destination"/>.</summary>
    public Task WriteCheckpointAsync(Stream destination, CancellationToken cancellationToken = default) =>
        WriteCheckpointAsync(destination, new RunCounters(Timesteps, _vectorSteps, _lastCheckpoint, _bestTrainingReward), cancellationToken);

    private async Task WriteCheckpointAsync(Stream destination, RunCounters counters, CancellationToken cancellationToken)
    {
        if (_labelling.Pending > 0) throw new InvalidOperationException("Label the unlabelled buffer before checkpointing (FlushAsync).");
        var environmentState = await _env.SaveStateAsync(cancellationToken);
        RunCheckpoint.Write(destination, _config, counters, Parts, environmentState);
    }

    /// <summary>Continues from a checkpoint <see cref="WriteCheckpointAsync"/> wrote, read from <paramref name="content"/>'s position.</summary>
    public async Task RestoreCheckpointAsync(Stream content, CancellationToken cancellationToken = default)
    {
        var (counters, environmentState) = RunCheckpoint.Read(content, _config, Parts, $"Checkpoint of run {RunId}");
        (Timesteps, _vectorSteps, _lastCheckpoint, _bestTrainingReward) = (counters.Timesteps, counters.VectorSteps, counters.LastCheckpoint, counters.BestTrainingReward);
        _speedFrom = (Timesteps, _clock.Elapsed);
        _embeddingLog?.Clear();
        _embeddingLogFrom = Timesteps;
        // D was stored re-rewarded; the labeller, made with the run's first reward, takes the one in force at this step.
        _rewardChanges = RewardChangesAt(Timesteps);
        if (_rewardChanges > 0) await _labeller.ChangeRewardAsync(_config.Reward.At(Timesteps), cancellationToken);
        await _env.LoadStateAsync(environmentState, cancellationToken);
    }

    private RunParts Parts => new(_rng, _algorithm, _statistics, _labelledEpisodeReturns, _labelled);

    /// <summary>
    /// The paper's evaluation (appendix C): the run's checkpoint with the highest training reward, restored into this
    /// trainer and judged on the ground truth over <paramref name="episodes"/> episodes. Null when the store holds none.
    /// </summary>
    public async Task<(CheckpointInfo Checkpoint, EvaluationResult Result)?> EvaluateBestCheckpointAsync(int episodes, CancellationToken cancellationToken = default)
    {
        if (_store is null) throw new InvalidOperationException("This trainer has no checkpoint store.");
        using var best = await _store.LoadBestAsync(RunId, cancellationToken);
        if (best is null) return null;
        await RestoreCheckpointAsync(best.Content, cancellationToken);
        return (best.Info, Evaluate(episodes));
    }

    /// <summary>Runs the deterministic policy for <paramref name="episodes"/> episodes on fresh copies; ground-truth return and success.</summary>
    public EvaluationResult Evaluate(int episodes, int seed = 10_000)
    {
        using var env = EnvRegistry.MakeVector(_config.Env, 1, seed, _config.EnvironmentOptions());
        env.Reset();
        var buffer = new float[env.Spec.ActionSize];
        var actions = new float[env.Spec.ActionSize];
        var returns = new List<double>();
        var successes = 0;
        while (returns.Count < episodes)
        {
            _algorithm.Act(env.Observations, 1, buffer, ActMode.Deterministic, Timesteps, _rng);
            _algorithm.ToEnvironmentActions(buffer, actions);
            env.Step(actions);
            if (!env.Terminated[0] && !env.Truncated[0]) continue;
            returns.Add(env.CompletedReturns[0]);
            successes += env.Successes[0] ? 1 : 0;
        }
        return new EvaluationResult(returns.Average(), successes / (double)episodes, returns);
    }

    public void Dispose()
    {
        _labelling.Dispose();
        _algorithm.Dispose();
        _env.Dispose();
    }

    private void LogTraining()
    {
        if (_log is null || _vectorSteps % Math.Max(1, 1000 / (_config.OffPolicy.TrainFreq * _env.Count)) != 0) return;
        foreach (var (tag, value) in _lastTrain.Values) _log.Scalar(tag, value, Timesteps);
    }
}
