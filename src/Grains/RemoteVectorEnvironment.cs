using VlmRm.Abstractions;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains;

/// <summary>The learner's view of its environment grain: Algorithm 1 steps it like a local <see cref="VectorEnv"/>.</summary>
public sealed class RemoteVectorEnvironment : IVectorEnvironment
{
    private readonly IEnvironmentGrain _grain;

    private RemoteVectorEnvironment(IEnvironmentGrain grain, EnvironmentDescription description)
    {
        _grain = grain;
        Space actions = description.DiscreteActions > 0 ? new DiscreteSpace(description.DiscreteActions) : new BoxSpace(description.ActionLow, description.ActionHigh);
        Spec = new EnvSpec(description.Id, new BoxSpace(description.ObservationLow, description.ObservationHigh), actions,
            description.MaxEpisodeSteps, description.RenderWidth, description.RenderHeight);
        Silo = description.Silo;
        Count = description.Observations.Length / Spec.ObservationSize;
        Observations = description.Observations;
        FinalObservations = new float[Observations.Length];
        Rewards = new float[Count];
        Terminated = new bool[Count];
        Truncated = new bool[Count];
        Successes = new bool[Count];
        CompletedReturns = new float[Count];
        CompletedLengths = new int[Count];
    }

    /// <summary>Creates (or re-creates, reset) the run's copies in its environment grain.</summary>
    public static async Task<RemoteVectorEnvironment> CreateAsync(IEnvironmentGrain grain, EnvironmentRequest request) =>
        new(grain, await grain.CreateAsync(request));

    public EnvSpec Spec { get; }
    public int Count { get; }

    /// <summary>The silo the copies run on.</summary>
    public string Silo { get; }

    public float[] Observations { get; }
    public float[] FinalObservations { get; }
    public float[] Rewards { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }
    public bool[] Successes { get; }
    public float[] CompletedReturns { get; }
    public int[] CompletedLengths { get; }

    public async ValueTask StepAsync(ReadOnlyMemory<float> actions, Memory<byte> reachedFrames, CancellationToken cancellationToken)
    {
        if (!reachedFrames.IsEmpty) throw new NotSupportedException("Frames stay with the environment grain; label them through it (EnvironmentGrainLabeller).");
        var step = await _grain.StepAsync(new EnvironmentActions(actions.ToArray()));
        step.Observations.CopyTo(Observations, 0);
        step.FinalObservations.CopyTo(FinalObservations, 0);
        step.Rewards.CopyTo(Rewards, 0);
        step.Terminated.CopyTo(Terminated, 0);
        step.Truncated.CopyTo(Truncated, 0);
        step.Successes.CopyTo(Successes, 0);
        step.CompletedReturns.CopyTo(CompletedReturns, 0);
        step.CompletedLengths.CopyTo(CompletedLengths, 0);
    }

    public async ValueTask<byte[]> SaveStateAsync(CancellationToken cancellationToken) => await _grain.SaveStateAsync();

    public async ValueTask LoadStateAsync(byte[] state, CancellationToken cancellationToken)
    {
        var restored = await _grain.LoadStateAsync(state);
        restored.CopyTo(Observations, 0);
    }

    /// <summary>The copies live as long as the run's environment grain; nothing to release here.</summary>
    public void Dispose()
    {
    }
}

/// <summary>The learner's labeller when frames stay with the environment grain: labelling asks the grain, which asks its silo's reward grain.</summary>
public sealed class EnvironmentGrainLabeller(IEnvironmentGrain grain, string runId) : IRewardLabeller
{
    public string Name => $"environment-grain:{runId}";

    /// <summary>None: the learner collects no frames.</summary>
    public FrameSize? Frames => null;

    /// <summary>The environment grain asks its reward grain from then on; the prompts' embeddings come back from the silo that has the model.</summary>
    public async ValueTask<ClipReward> ChangeRewardAsync(RewardSection reward, CancellationToken cancellationToken)
    {
        var prompts = await grain.ChangeRewardAsync(RewardSpecs.From(reward) ?? throw new NotSupportedException($"Run {runId}'s reward is not a CLIP reward: it cannot change."));
        return new ClipReward(prompts.Goal, prompts.Baseline, reward.Alpha);
    }

    public async ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken) =>
        await (await StartLabellingAsync(batch, rewards, embeddings, cancellationToken)).FinishAsync(cancellationToken);

    /// <summary>Hands the batch over once the grain holds it as labelling; its labels are collected when the schedule needs them.</summary>
    public async ValueTask<PendingLabels> StartLabellingAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken)
    {
        await grain.StartLabellingAsync(batch.EnvironmentRewards[..batch.Count].ToArray());
        var count = batch.Count;
        return new PendingLabels(Task.CompletedTask, async _ =>
        {
            var labels = await grain.CollectLabelsAsync();
            if (labels.Rewards.Length != count)
            {
                throw new InvalidDataException($"Environment grain of run {runId} returned {labels.Rewards.Length} rewards for {count} transitions.");
            }
            labels.Rewards.CopyTo(rewards.Span);
            if (embeddings is not null)
            {
                if (labels.EmbeddingWidth <= 0 || labels.Embeddings.Length != count * labels.EmbeddingWidth * sizeof(short))
                {
                    throw new InvalidDataException($"Environment grain of run {runId} returned {labels.Embeddings.Length} embedding bytes of width {labels.EmbeddingWidth} for {count} frames; the run keeps them.");
                }
                embeddings.Write(0, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(labels.Embeddings), labels.EmbeddingWidth);
            }
        });
    }
}
