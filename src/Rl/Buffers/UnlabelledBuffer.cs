using VlmRm.Rl.Labelling;

namespace VlmRm.Rl.Buffers;

/// <summary>
/// Algorithm 1's unlabelled buffer B: transitions (s, a, s′) waiting for their reward, with what a
/// labeller may use (environment reward, success flag, frame of s′). Flat preallocated arrays; the frames in
/// chunks, since the paper's Humanoid batch is over 2 GiB.
/// </summary>
public sealed class UnlabelledBuffer
{
    public UnlabelledBuffer(int capacity, int observationSize, int actionSize, FrameSize? frames)
    {
        Capacity = capacity;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Observations = new float[capacity * observationSize];
        NextObservations = new float[capacity * observationSize];
        Actions = new float[capacity * actionSize];
        EnvironmentRewards = new float[capacity];
        Terminated = new bool[capacity];
        EpisodeEnds = new bool[capacity];
        Successes = new bool[capacity];
        EnvIndices = new int[capacity];
        Frames = frames is { } f ? new FrameChunks(capacity, f) : null;
    }

    public int Capacity { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int Count { get; private set; }
    public float[] Observations { get; }
    public float[] NextObservations { get; }
    public float[] Actions { get; }
    public float[] EnvironmentRewards { get; }
    public bool[] Terminated { get; }
    public bool[] EpisodeEnds { get; }
    public bool[] Successes { get; }
    public int[] EnvIndices { get; }
    public FrameChunks? Frames { get; }

    public void Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> action, ReadOnlySpan<float> nextObservation, bool terminated, bool episodeEnd,
        float environmentReward, bool success, int envIndex, ReadOnlySpan<byte> frame)
    {
        if (Count == Capacity) throw new InvalidOperationException("Unlabelled buffer is full; label it first.");
        var i = Count++;
        observation.CopyTo(Observations.AsSpan(i * ObservationSize, ObservationSize));
        nextObservation.CopyTo(NextObservations.AsSpan(i * ObservationSize, ObservationSize));
        action.CopyTo(Actions.AsSpan(i * ActionSize, ActionSize));
        EnvironmentRewards[i] = environmentReward;
        Terminated[i] = terminated;
        EpisodeEnds[i] = episodeEnd;
        Successes[i] = success;
        EnvIndices[i] = envIndex;
        if (Frames is { } frames) frame.CopyTo(frames[i]);
    }

    public LabelBatch AsBatch() => new(Count, EnvironmentRewards.AsMemory(0, Count), Successes.AsMemory(0, Count), Frames);

    public void Clear() => Count = 0;
}
