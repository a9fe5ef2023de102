using TorchSharp;
using VlmRm.Envs;
using static TorchSharp.torch;

namespace VlmRm.Rl.Buffers;

/// <summary>
/// The labelled replay buffer D of Algorithm 1: a ring of transitions in preallocated flat arrays (no
/// object per transition). `terminated` only, not truncation, cuts bootstrapping, as SB3's
/// handle_timeout_termination does.
/// </summary>
public sealed class ReplayBuffer
{
    private readonly float[] _observations;
    private readonly float[] _nextObservations;
    private readonly float[] _actions;
    private readonly float[] _rewards;
    private readonly float[] _terminated;
    private int _position;

    public ReplayBuffer(int capacity, int observationSize, int actionSize)
    {
        CheckShape(capacity, observationSize, actionSize);
        Capacity = capacity;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _observations = new float[(long)capacity * observationSize];
        _nextObservations = new float[(long)capacity * observationSize];
        _actions = new float[(long)capacity * actionSize];
        _rewards = new float[capacity];
        _terminated = new float[capacity];
    }

    public int Capacity { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int Count { get; private set; }

    /// <summary>Refuses a shape whose arrays .NET cannot hold (buffer_size × observation size over 2³¹ values).</summary>
    public static void CheckShape(long capacity, int observationSize, int actionSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        var widest = capacity * Math.Max(observationSize, actionSize);
        if (capacity > int.MaxValue || widest > Array.MaxLength)
        {
            throw new ArgumentException($"A replay buffer of {capacity:N0} transitions of {observationSize} observation values holds {widest:N0} values in one array, " +
                $"over .NET's {Array.MaxLength:N0}; lower buffer_size to at most {Array.MaxLength / Math.Max(observationSize, actionSize):N0}.", nameof(capacity));
        }
    }

    /// <summary>Bytes the arrays of a buffer of this shape take.</summary>
    public static long BytesFor(long capacity, int observationSize, int actionSize) =>
        capacity * (2L * observationSize + actionSize + 2) * sizeof(float);

    public void Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float reward, ReadOnlySpan<float> nextObservation, bool terminated)
    {
        if (!float.IsFinite(reward)) throw new ArgumentException($"Reward {reward} is not finite; the labeller produced a bad value.", nameof(reward));
        observation.CopyTo(_observations.AsSpan(_position * ObservationSize, ObservationSize));
        nextObservation.CopyTo(_nextObservations.AsSpan(_position * ObservationSize, ObservationSize));
        action.CopyTo(_actions.AsSpan(_position * ActionSize, ActionSize));
        _rewards[_position] = reward;
        _terminated[_position] = terminated ? 1 : 0;
        _position = (_position + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>Uniformly sampled transitions (with replacement, as SB3), gathered into tensors on <paramref name="device"/>.</summary>
    public TransitionBatch Sample(int batchSize, Rng rng, Device device)
    {
        if (Count == 0) throw new InvalidOperationException("Cannot sample from an empty replay buffer.");
        var observations = new float[batchSize * ObservationSize];
        var nextObservations = new float[batchSize * ObservationSize];
        var actions = new float[batchSize * ActionSize];
        var rewards = new float[batchSize];
        var terminated = new float[batchSize];
        for (var b = 0; b < batchSize; b++)
        {
            var i = rng.NextInt(Count);
            _observations.AsSpan(i * ObservationSize, ObservationSize).CopyTo(observations.AsSpan(b * ObservationSize));
            _nextObservations.AsSpan(i * ObservationSize, ObservationSize).CopyTo(nextObservations.AsSpan(b * ObservationSize));
            _actions.AsSpan(i * ActionSize, ActionSize).CopyTo(actions.AsSpan(b * ActionSize));
            rewards[b] = _rewards[i];
            terminated[b] = _terminated[i];
        }
        return new TransitionBatch(
            tensor(observations, [batchSize, ObservationSize]).to(device),
            tensor(actions, [batchSize, ActionSize]).to(device),
            tensor(rewards, [batchSize, 1]).to(device),
            tensor(nextObservations, [batchSize, ObservationSize]).to(device),
            tensor(terminated, [batchSize, 1]).to(device));
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(Capacity);
        writer.Write(ObservationSize);
        writer.Write(ActionSize);
        writer.Write(Count);
        writer.Write(_position);
        WriteFloats(writer, _observations.AsSpan(0, Count * ObservationSize));
        WriteFloats(writer, _nextObservations.AsSpan(0, Count * ObservationSize));
        WriteFloats(writer, _actions.AsSpan(0, Count * ActionSize));
        WriteFloats(writer, _rewards.AsSpan(0, Count));
        WriteFloats(writer, _terminated.AsSpan(0, Count));
    }

    public void Load(BinaryReader reader)
    {
        var (capacity, observationSize, actionSize) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        if (capacity != Capacity || observationSize != ObservationSize || actionSize != ActionSize)
        {
            throw new InvalidDataException($"Replay buffer snapshot is {capacity}×(obs {observationSize}, act {actionSize}); this buffer is {Capacity}×(obs {ObservationSize}, act {ActionSize}).");
        }
        Count = reader.ReadInt32();
        _position = reader.ReadInt32();
        ReadFloats(reader, _observations.AsSpan(0, Count * ObservationSize));
        ReadFloats(reader, _nextObservations.AsSpan(0, Count * ObservationSize));
        ReadFloats(reader, _actions.AsSpan(0, Count * ActionSize));
        ReadFloats(reader, _rewards.AsSpan(0, Count));
        ReadFloats(reader, _terminated.AsSpan(0, Count));
    }

    private static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values) => writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    private static void ReadFloats(BinaryReader reader, Span<float> values)
    {
        try
        {
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Replay buffer snapshot ends early.", e);
        }
    }
}

/// <summary>A sampled minibatch as tensors; dispose after the update.</summary>
public sealed record TransitionBatch(Tensor Observations, Tensor Actions, Tensor Rewards, Tensor NextObservations, Tensor Terminated) : IDisposable
{
    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        Rewards.Dispose();
        NextObservations.Dispose();
        Terminated.Dispose();
    }
}
