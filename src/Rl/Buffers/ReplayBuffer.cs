using TorchSharp;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using static TorchSharp.torch;

namespace VlmRm.Rl.Buffers;

/// <summary>
/// The labelled replay buffer D of Algorithm 1: a ring of transitions in preallocated flat arrays (no
/// object per transition). `terminated` only, not truncation, cuts bootstrapping, as SB3's
/// handle_timeout_termination does. A run that keeps its embeddings (reward.keep_embeddings) stores each labelled
/// frame's image embedding (fp16) and the environment's success flag beside its transition, so the whole buffer can be
/// re-rewarded for other prompts or α with no rendering and no image tower (<see cref="Relabel"/>).
/// </summary>
public sealed class ReplayBuffer
{
    private readonly float[] _observations;
    private readonly float[] _nextObservations;
    private readonly float[] _actions;
    private readonly float[] _rewards;
    private readonly float[] _terminated;
    private Half[] _embeddings = [];
    private bool[] _successes = [];
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

    /// <summary>Values of each stored image embedding; 0 when the buffer keeps none.</summary>
    public int EmbeddingWidth { get; private set; }

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

    /// <param name="embedding">The reached state's image embedding, for a buffer that keeps them; empty otherwise.</param>
    /// <param name="success">The environment's success flag of the reached state, kept with the embedding.</param>
    public void Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> action, float reward, ReadOnlySpan<float> nextObservation, bool terminated,
        ReadOnlySpan<Half> embedding = default, bool success = false)
    {
        if (!float.IsFinite(reward)) throw new ArgumentException($"Reward {reward} is not finite; the labeller produced a bad value.", nameof(reward));
        if (!embedding.IsEmpty || EmbeddingWidth > 0)
        {
            if (embedding.Length != EmbeddingWidth) EnsureEmbeddings(embedding.Length);
            embedding.CopyTo(_embeddings.AsSpan(_position * EmbeddingWidth, EmbeddingWidth));
            _successes[_position] = success;
        }
        observation.CopyTo(_observations.AsSpan(_position * ObservationSize, ObservationSize));
        nextObservation.CopyTo(_nextObservations.AsSpan(_position * ObservationSize, ObservationSize));
        action.CopyTo(_actions.AsSpan(_position * ActionSize, ActionSize));
        _rewards[_position] = reward;
        _terminated[_position] = terminated ? 1 : 0;
        _position = (_position + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>The stored image embedding of transition <paramref name="index"/> (0 … Count − 1, in buffer order).</summary>
    public ReadOnlySpan<Half> Embedding(int index) => _embeddings.AsSpan(index * EmbeddingWidth, EmbeddingWidth);

    /// <summary>Whether the environment counted transition <paramref name="index"/>'s reached state a success (kept with the embeddings).</summary>
    public bool Success(int index) => _successes[index];

    public float Reward(int index) => _rewards[index];

    public ReadOnlySpan<float> NextObservation(int index) => _nextObservations.AsSpan(index * ObservationSize, ObservationSize);

    /// <summary>
    /// Re-rewards every stored transition from its embedding with <paramref name="reward"/> (Eq. 2–3 alone: no frame, no
    /// image tower), across the machine's cores. Throws when the buffer keeps no embeddings.
    /// </summary>
    public void Relabel(ClipReward reward)
    {
        if (EmbeddingWidth == 0) throw new InvalidOperationException("This replay buffer keeps no embeddings (reward.keep_embeddings: false when its transitions were labelled): nothing to re-reward from.");
        if (reward.Dimension != EmbeddingWidth) throw new ArgumentException($"The reward's prompts embed to {reward.Dimension} values; the stored embeddings have {EmbeddingWidth}: a different CLIP model.", nameof(reward));
        const int rows = 4096;
        Parallel.For(0, (Count + rows - 1) / rows, block =>
        {
            var (first, count) = (block * rows, Math.Min(rows, Count - block * rows));
            reward.ScoreRows(_embeddings.AsSpan(first * EmbeddingWidth, count * EmbeddingWidth), _rewards.AsSpan(first, count));
        });
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
        writer.Write(EmbeddingWidth);
        if (EmbeddingWidth == 0) return;
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_embeddings.AsSpan(0, Count * EmbeddingWidth)));
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_successes.AsSpan(0, Count)));
    }

    /// <param name="withEmbeddings">Whether the snapshot has the embeddings block (checkpoint format 4 on).</param>
    public void Load(BinaryReader reader, bool withEmbeddings = true)
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
        var width = withEmbeddings ? reader.ReadInt32() : 0;
        if (width < 0) throw new InvalidDataException($"Replay buffer snapshot records an embedding width of {width}.");
        EmbeddingWidth = 0;
        if (width == 0) return;
        EnsureEmbeddings(width);
        ReadBytes(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_embeddings.AsSpan(0, Count * width)));
        ReadBytes(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_successes.AsSpan(0, Count)));
    }

    private void EnsureEmbeddings(int width)
    {
        if (EmbeddingWidth != 0) throw new ArgumentException($"This replay buffer keeps embeddings of {EmbeddingWidth} values; one of {width} was added.");
        if ((long)Capacity * width > Array.MaxLength)
        {
            throw new ArgumentException($"Keeping {Capacity:N0} embeddings of {width} values takes {(long)Capacity * width:N0} in one array, over .NET's {Array.MaxLength:N0}; " +
                $"lower buffer_size to at most {Array.MaxLength / width:N0} or set reward.keep_embeddings: false.");
        }
        if (_embeddings.Length != Capacity * width) _embeddings = new Half[Capacity * width];
        if (_successes.Length != Capacity) _successes = new bool[Capacity];
        EmbeddingWidth = width;
    }

    private static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values) => writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    private static void ReadFloats(BinaryReader reader, Span<float> values) => ReadBytes(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    private static void ReadBytes(BinaryReader reader, Span<byte> bytes)
    {
        try
        {
            reader.BaseStream.ReadExactly(bytes);
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
