using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using VlmRm.Abstractions;
using VlmRm.Envs;
using VlmRm.Rl;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains;

/// <summary>
/// One run's environment copies, placed on the silo of the learner that first calls it (a step is a
/// message per vectorized step). CLIP runs render each reached state into a buffer of B frames; labelling
/// sends them to the reward grain keyed for this silo, so frames leave the silo only when it may not host
/// reward grains (a CPU silo in a cluster with GPU silos), and then in messages of at most
/// RewardBatching:MaxMessageBytes (Orleans refuses bodies over 100 MB; a paper-sized Humanoid batch is 2.2 GB).
/// Labelling runs as a task of this activation, so steps interleave with its reward-grain calls; with overlapped
/// labelling the steps render into a second frame buffer meanwhile.
/// No persisted state: the learner's checkpoints hold the copies' state.
/// </summary>
[PreferLocalPlacement]
#pragma warning disable CA1001 // The copies are disposed in OnDeactivateAsync, the grain's end of life.
public sealed class EnvironmentGrain(ILocalSiloDetails silo, IOptions<RewardBatchingOptions> batching) : Grain, IEnvironmentGrain
{
#pragma warning restore CA1001

    private VectorEnv? _env;
    private RewardSpec? _reward;
    private bool _rendersFrames;
    private bool _keepEmbeddings;
    /// <summary>The buffer steps render into; null while the run's only buffer is being labelled.</summary>
    private FrameChunks? _collecting;
    /// <summary>The other buffer (overlapped labelling) while it is free.</summary>
    private FrameChunks? _spare;
    private int _framesHeld;
    private (FrameChunks? Frames, int Count, Task<EnvironmentLabels> Labels)? _labelling;

    public Task<EnvironmentDescription> CreateAsync(EnvironmentRequest request)
    {
        Release();
        var config = RunConfigLoader.FromJson(request.ConfigJson, request.RunId);
        var frames = config.Reward.LabellerFrames();
        _env = RunFactory.MakeEnvironment(config, frames);
        _reward = RewardSpecs.From(config.Reward);
        // Chunks of whole vectorized steps: each step renders straight into the chunk that holds its frames.
        FrameChunks NewBuffer(FrameSize f) => new(RunFactory.LabelBatchSize(config), f, batching.Value.MaxMessageBytes, alignment: config.NumEnvs);
        _rendersFrames = frames is not null;
        _keepEmbeddings = config.Reward.KeepEmbeddings;
        _collecting = frames is { } size ? NewBuffer(size) : null;
        _spare = frames is { } second && config.Reward.Labelling == LabellingScheduleKind.Overlapped ? NewBuffer(second) : null;
        var spec = _env.Spec;
        var observations = (BoxSpace)spec.ObservationSpace;
        var (low, high, discrete) = spec.ActionSpace switch
        {
            BoxSpace box => (box.Low, box.High, 0),
            DiscreteSpace d => ([], [], d.N),
            var other => throw new NotSupportedException($"{spec.Id}: action space {other} cannot be described to a learner."),
        };
        return Task.FromResult(new EnvironmentDescription(spec.Id, observations.Low, observations.High, low, high, discrete,
            spec.MaxEpisodeSteps, spec.RenderWidth, spec.RenderHeight, [.. _env.Observations], silo.SiloAddress.ToString()));
    }

    public Task<EnvironmentStep> StepAsync(EnvironmentActions actions)
    {
        var env = Environment();
        if (_rendersFrames && (_collecting is not { } held || _framesHeld + env.Count > held.Capacity))
        {
            throw new InvalidOperationException(_collecting is null
                ? $"Environment of run {this.GetPrimaryKeyString()} is labelling its only frame buffer: collect the labels before stepping on (or use overlapped labelling)."
                : $"Environment of run {this.GetPrimaryKeyString()} holds {_framesHeld} unlabelled frames, its labelling batch is {_collecting.Capacity}: label before stepping on.");
        }
        var frames = _collecting is { } chunks ? chunks.Runs(_framesHeld, env.Count).Single().Bytes.Span : Span<byte>.Empty;
        env.Step(actions.Actions, frames, renderParallelism: System.Environment.ProcessorCount);
        VlmRmMetrics.EnvironmentSteps.Add(env.Count);
        if (_labelling is { Labels.IsCompleted: false }) VlmRmMetrics.StepsWhileLabelling.Add(env.Count);
        if (!frames.IsEmpty)
        {
            _framesHeld += env.Count;
            VlmRmMetrics.FramesRendered.Add(env.Count);
            VlmRmMetrics.AddFramesAwaitingLabels(env.Count);
        }
        return Task.FromResult(new EnvironmentStep([.. env.Observations], [.. env.FinalObservations], [.. env.Rewards], [.. env.Terminated],
            [.. env.Truncated], [.. env.Successes], [.. env.CompletedReturns], [.. env.CompletedLengths]));
    }

    public Task StartLabellingAsync(float[] environmentRewards)
    {
        var env = Environment();
        var run = this.GetPrimaryKeyString();
        if (_labelling is not null) throw new InvalidOperationException($"Environment of run {run} is still labelling its previous batch: collect its labels first.");
        if (_collecting is not { } frames)
        {
            _labelling = (null, 0, Task.FromResult(new EnvironmentLabels(environmentRewards, silo.SiloAddress.ToString(), [], 0)));
            return Task.CompletedTask;
        }
        if (environmentRewards.Length != _framesHeld)
        {
            throw new InvalidOperationException($"Environment of run {run} was asked to label {environmentRewards.Length} transitions but holds frames of {_framesHeld}.");
        }
        // Not awaited here: the task runs in this activation, its reward-grain calls interleaving with the next steps.
        _labelling = (frames, _framesHeld, LabelFramesAsync(env, frames, environmentRewards));
        (_collecting, _spare) = (_spare, null);
        _framesHeld = 0;
        return Task.CompletedTask;
    }

    public async Task<EnvironmentLabels> CollectLabelsAsync()
    {
        Environment();
        if (_labelling is not { Labels: var labels }) throw new InvalidOperationException($"Environment of run {this.GetPrimaryKeyString()} has no labelling to collect: start one first.");
        try
        {
            return await labels;
        }
        finally
        {
            EndLabelling();
        }
    }

    /// <summary>The labelled buffer is free again: it takes new frames (the run's only buffer) or waits as the spare.</summary>
    private void EndLabelling()
    {
        if (_labelling is not var (frames, count, _)) return;
        _labelling = null;
        VlmRmMetrics.AddFramesAwaitingLabels(-count);
        if (_collecting is null) _collecting = frames;
        else _spare ??= frames;
    }

    private async Task<EnvironmentLabels> LabelFramesAsync(VectorEnv env, FrameChunks frames, float[] environmentRewards)
    {
        var here = silo.SiloAddress.ToString();
        var count = environmentRewards.Length;
        var reward = _reward!;
        var rewardGrain = GrainFactory.GetGrain<IRewardGrain>(reward.GrainKey(silo.SiloAddress.ToParsableString()));
        var rewards = new float[count];
        var labelledOn = here;
        var keep = _keepEmbeddings;
        byte[] embeddings = [];
        var width = 0;
        // One message per chunk, in order: a chunk is at most the message limit, and the batcher groups them with other runs' frames.
        foreach (var (first, run, bytes) in frames.Runs(0, count))
        {
            var request = new RewardRequest(run, environmentRewards[first..(first + run)], WholeArray(bytes), env.Spec.RenderWidth, env.Spec.RenderHeight);
            var response = await rewardGrain.LabelAsync(reward, request);
            response.Rewards.CopyTo(rewards, first);
            labelledOn = response.Silo;
            if (keep)
            {
                if (width == 0)
                {
                    width = response.Embeddings.Length / Math.Max(1, run);
                    embeddings = new byte[count * width * sizeof(short)];
                }
                if (response.Embeddings.Length != run * width) throw new InvalidDataException($"Reward grain returned {response.Embeddings.Length} embedding values for {run} frames of width {width}.");
                var halves = MemoryMarshal.Cast<byte, Half>(embeddings.AsSpan(first * width * sizeof(short), run * width * sizeof(short)));
                for (var i = 0; i < halves.Length; i++) halves[i] = (Half)response.Embeddings[i];
            }
            if (response.Silo != here) VlmRmMetrics.FrameBytesAcrossSilos.Add(request.Frames.Length);
        }
        return new EnvironmentLabels(rewards, labelledOn, embeddings, width);
    }

    /// <summary>
    /// A full chunk goes out as its own array, not a copy (chunks are message-sized): the request is immutable and
    /// this grain awaits the labels before it renders into the chunk again.
    /// </summary>
    private static byte[] WholeArray(Memory<byte> bytes) =>
        MemoryMarshal.TryGetArray<byte>(bytes, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : bytes.ToArray();

    public Task<PromptEmbeddings> ChangeRewardAsync(RewardSpec spec)
    {
        if (_labelling is not null) throw new InvalidOperationException($"Environment of run {this.GetPrimaryKeyString()} is labelling a batch: collect it before changing the reward.");
        _reward = spec;
        return GrainFactory.GetGrain<IRewardGrain>(spec.GrainKey(silo.SiloAddress.ToParsableString())).EmbedPromptsAsync(spec);
    }

    public Task<byte[]> SaveStateAsync() => Task.FromResult(Environment().SaveState());

    public Task<float[]> LoadStateAsync(byte[] state)
    {
        var env = Environment();
        env.LoadState(state);
        DropFrames();
        return Task.FromResult<float[]>([.. env.Observations]);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Release();
        return Task.CompletedTask;
    }

    private VectorEnv Environment() => _env ?? throw new EnvironmentLostException(
        $"Environment of run {this.GetPrimaryKeyString()} on {silo.SiloAddress} was not created (its earlier activation is gone); the learner re-creates it from its latest checkpoint.");

    /// <summary>Frames waiting for labels, and a labelling under way, belong to steps a restore or re-creation undoes.</summary>
    private void DropFrames()
    {
        EndLabelling();
        VlmRmMetrics.AddFramesAwaitingLabels(-_framesHeld);
        _framesHeld = 0;
    }

    private void Release()
    {
        DropFrames();
        _env?.Dispose();
        _env = null;
    }
}
