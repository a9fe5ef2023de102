namespace VlmRm.Rl.Labelling;

/// <summary>
/// Turns a batch of transitions into rewards (Algorithm 1's labelling step). The trainer sees rewards
/// only through this interface: ground truth in-process, CLIP in-process or a reward grain in the cluster.
/// </summary>
public interface IRewardLabeller
{
    string Name { get; }

    /// <summary>Frame size the labeller needs (the trainer renders only then); null for labellers that use no pixels.</summary>
    FrameSize? Frames { get; }

    /// <param name="batch">Transitions in the order they happened.</param>
    /// <param name="rewards">One reward per transition.</param>
    /// <param name="embeddings">Where the frames' image embeddings go when the run keeps them; null when it does not.</param>
    ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken);

    /// <summary>
    /// Starts labelling and returns once <paramref name="batch"/> is handed over, with what waits for its rewards (the
    /// overlapped schedule steps on meanwhile); the batch and <paramref name="rewards"/> stay untouched until it finishes.
    /// By default <see cref="LabelAsync"/> runs on the thread pool.
    /// </summary>
    /// <summary>
    /// Labels with <paramref name="reward"/> from now on (reward.schedule: other prompts or α of the same model) and returns
    /// its Eq. 2–3, for re-rewarding stored embeddings. A labeller with no CLIP reward cannot.
    /// </summary>
    ValueTask<Clip.Reward.ClipReward> ChangeRewardAsync(Presets.RewardSection reward, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Labeller {Name} has no CLIP reward to change (reward.schedule needs labeller: clip).");

    ValueTask<PendingLabels> StartLabellingAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken) =>
        ValueTask.FromResult(PendingLabels.Running(Task.Run(() => LabelAsync(batch, rewards, embeddings, cancellationToken).AsTask(), cancellationToken)));
}

public readonly record struct FrameSize(int Width, int Height)
{
    public int Bytes => checked(Width * Height * 3);
}

/// <summary>
/// What the labeller may use: the environment's own reward and success flag of each transition, and,
/// when it asked for them, the frames of the states the transitions reached (the first Count of <paramref name="Frames"/>).
/// </summary>
public readonly record struct LabelBatch(int Count, ReadOnlyMemory<float> EnvironmentRewards, ReadOnlyMemory<bool> Successes, FrameChunks? Frames)
{
    public FrameSize? FrameSize => Frames?.Frame;
}

/// <summary>The environment's reward: validates the learning code on tasks with a known answer.</summary>
public sealed class GroundTruthLabeller : IRewardLabeller
{
    public string Name => "ground_truth";
    public FrameSize? Frames => null;

    public ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken)
    {
        batch.EnvironmentRewards.Span[..batch.Count].CopyTo(rewards.Span);
        return ValueTask.CompletedTask;
    }
}
