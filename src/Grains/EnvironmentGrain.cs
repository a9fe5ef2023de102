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
/// No persisted state: the learner's checkpoints hold the copies' state.
/// </summary>
[PreferLocalPlacement]
#pragma warning disable CA1001 // The copies are disposed in OnDeactivateAsync, the grain's end of life.
public sealed class EnvironmentGrain(ILocalSiloDetails silo, IOptions<RewardBatchingOptions> batching) : Grain, IEnvironmentGrain
{
#pragma warning restore CA1001

    private VectorEnv? _env;
    private RewardSpec? _reward;
    private FrameChunks? _frames;
    private int _framesHeld;

    public Task<EnvironmentDescription> CreateAsync(EnvironmentRequest request)
    {
        Release();
        var config = RunConfigLoader.FromJson(request.ConfigJson, request.RunId);
        var frames = config.Reward.LabellerFrames();
        _env = RunFactory.MakeEnvironment(config, frames);
        _reward = RewardSpecs.From(config.Reward);
        // Chunks of whole vectorized steps: each step renders straight into the chunk that holds its frames.
        _frames = frames is { } f ? new FrameChunks(RunFactory.LabelBatchSize(config), f, batching.Value.MaxMessageBytes, alignment: config.NumEnvs) : null;
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
        if (_frames is { } held && _framesHeld + env.Count > held.Capacity)
        {
            throw new InvalidOperationException($"Environment of run {this.GetPrimaryKeyString()} holds {_framesHeld} unlabelled frames, its labelling batch is {held.Capacity}: label before stepping on.");
        }
        var frames = _frames is { } chunks ? chunks.Runs(_framesHeld, env.Count).Single().Bytes.Span : Span<byte>.Empty;
        env.Step(actions.Actions, frames, renderParallelism: System.Environment.ProcessorCount);
        VlmRmMetrics.EnvironmentSteps.Add(env.Count);
        if (!frames.IsEmpty)
        {
            _framesHeld += env.Count;
            VlmRmMetrics.FramesRendered.Add(env.Count);
            VlmRmMetrics.AddFramesAwaitingLabels(env.Count);
        }
        return Task.FromResult(new EnvironmentStep([.. env.Observations], [.. env.FinalObservations], [.. env.Rewards], [.. env.Terminated],
            [.. env.Truncated], [.. env.Successes], [.. env.CompletedReturns], [.. env.CompletedLengths]));
    }

    public async Task<EnvironmentLabels> LabelAsync(float[] environmentRewards)
    {
        var env = Environment();
        var here = silo.SiloAddress.ToString();
        if (_frames is not { } frames) return new EnvironmentLabels(environmentRewards, here);
        if (environmentRewards.Length != _framesHeld)
        {
            throw new InvalidOperationException($"Environment of run {this.GetPrimaryKeyString()} was asked to label {environmentRewards.Length} transitions but holds frames of {_framesHeld}.");
        }
        var count = _framesHeld;
        var reward = _reward!;
        var rewardGrain = GrainFactory.GetGrain<IRewardGrain>(reward.GrainKey(silo.SiloAddress.ToParsableString()));
        var rewards = new float[count];
        var labelledOn = here;
        // One message per chunk, in order: a chunk is at most the message limit, and the batcher groups them with other runs' frames.
        foreach (var (first, run, bytes) in frames.Runs(0, count))
        {
            var request = new RewardRequest(run, environmentRewards[first..(first + run)], WholeArray(bytes), env.Spec.RenderWidth, env.Spec.RenderHeight);
            var response = await rewardGrain.LabelAsync(reward, request);
            response.Rewards.CopyTo(rewards, first);
            labelledOn = response.Silo;
            if (response.Silo != here) VlmRmMetrics.FrameBytesAcrossSilos.Add(request.Frames.Length);
        }
        _framesHeld = 0;
        VlmRmMetrics.AddFramesAwaitingLabels(-count);
        return new EnvironmentLabels(rewards, labelledOn);
    }

    /// <summary>
    /// A full chunk goes out as its own array, not a copy (chunks are message-sized): the request is immutable and
    /// this grain awaits the labels before it renders into the chunk again.
    /// </summary>
    private static byte[] WholeArray(Memory<byte> bytes) =>
        MemoryMarshal.TryGetArray<byte>(bytes, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : bytes.ToArray();

    public Task<byte[]> SaveStateAsync() => Task.FromResult(Environment().SaveState());

    public Task<float[]> LoadStateAsync(byte[] state)
    {
        var env = Environment();
        env.LoadState(state);
        VlmRmMetrics.AddFramesAwaitingLabels(-_framesHeld);
        _framesHeld = 0;
        return Task.FromResult<float[]>([.. env.Observations]);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Release();
        return Task.CompletedTask;
    }

    private VectorEnv Environment() => _env ?? throw new EnvironmentLostException(
        $"Environment of run {this.GetPrimaryKeyString()} on {silo.SiloAddress} was not created (its earlier activation is gone); the learner re-creates it from its latest checkpoint.");

    private void Release()
    {
        VlmRmMetrics.AddFramesAwaitingLabels(-_framesHeld);
        _framesHeld = 0;
        _env?.Dispose();
        _env = null;
    }
}
