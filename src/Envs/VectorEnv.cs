namespace VlmRm.Envs;

/// <summary>
/// N copies of one environment stepped in one call, with Stable-Baselines3's auto-reset semantics:
/// when a copy's episode ends, its final observation goes to <see cref="FinalObservations"/>, it is
/// reset, and <see cref="Observations"/> holds the first observation of the next episode. All buffers
/// are contiguous and allocated once.
/// </summary>
public sealed class VectorEnv : IVectorEnvironment
{
    private readonly IEnv[] _envs;
    private readonly int _seed;

    /// <param name="factory">Creates copy <c>i</c>; every copy must have the same spec.</param>
    /// <param name="seed">Copy <c>i</c> is first reset with seed + i.</param>
    public VectorEnv(int count, Func<int, IEnv> factory, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _envs = new IEnv[count];
        for (var i = 0; i < count; i++) _envs[i] = factory(i);
        Spec = _envs[0].Spec;
        foreach (var env in _envs)
        {
            if (env.Spec != Spec) throw new ArgumentException($"Vectorized copies must share one spec: got {env.Spec.Id} beside {Spec.Id}.", nameof(factory));
        }
        _seed = seed;
        Observations = new float[count * Spec.ObservationSize];
        FinalObservations = new float[count * Spec.ObservationSize];
        Rewards = new float[count];
        Terminated = new bool[count];
        Truncated = new bool[count];
        Successes = new bool[count];
        EpisodeReturns = new float[count];
        EpisodeLengths = new int[count];
        CompletedReturns = new float[count];
        CompletedLengths = new int[count];
    }

    public EnvSpec Spec { get; }
    public int Count => _envs.Length;
    public IEnv this[int index] => _envs[index];

    public float[] Observations { get; }
    public float[] FinalObservations { get; }
    public float[] Rewards { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }

    /// <summary>Ground-truth success of the state each copy reached with the last step (before any auto-reset).</summary>
    public bool[] Successes { get; }

    /// <summary>Running return and length of the current episode of each copy.</summary>
    public float[] EpisodeReturns { get; }
    public int[] EpisodeLengths { get; }

    /// <summary>Return and length of the episode that ended at the last step (valid where Terminated or Truncated).</summary>
    public float[] CompletedReturns { get; }
    public int[] CompletedLengths { get; }

    public int FrameBytes => Spec.FrameBytes;

    public void Reset()
    {
        for (var i = 0; i < _envs.Length; i++)
        {
            _envs[i].Reset(_seed + i, ObservationSlot(Observations, i));
            EpisodeReturns[i] = 0;
            EpisodeLengths[i] = 0;
        }
    }

    /// <param name="actions">Count × ActionSize floats (discrete actions as their index).</param>
    /// <param name="reachedFrames">
    /// When given (Count × H × W × 3 bytes), each copy's reached state is rendered into it before any
    /// auto-reset, so a frame always shows the state the transition ended in.
    /// </param>
    public void Step(ReadOnlySpan<float> actions, Span<byte> reachedFrames = default, int renderParallelism = 1)
    {
        var actionSize = Spec.ActionSize;
        if (actions.Length != Count * actionSize)
        {
            throw new ArgumentException($"{Spec.Id}: expected {Count}×{actionSize} actions, got {actions.Length} floats.", nameof(actions));
        }
        for (var i = 0; i < _envs.Length; i++)
        {
            var result = _envs[i].Step(actions.Slice(i * actionSize, actionSize), ObservationSlot(Observations, i));
            Rewards[i] = result.Reward;
            Terminated[i] = result.Terminated;
            Truncated[i] = result.Truncated;
            Successes[i] = result.IsSuccess;
            EpisodeReturns[i] += result.Reward;
            EpisodeLengths[i]++;
        }
        if (!reachedFrames.IsEmpty) Render(reachedFrames, renderParallelism);
        for (var i = 0; i < _envs.Length; i++)
        {
            if (!Terminated[i] && !Truncated[i]) continue;
            var observation = ObservationSlot(Observations, i);
            observation.CopyTo(ObservationSlot(FinalObservations, i));
            CompletedReturns[i] = EpisodeReturns[i];
            CompletedLengths[i] = EpisodeLengths[i];
            EpisodeReturns[i] = 0;
            EpisodeLengths[i] = 0;
            // Later episodes continue the copy's own seeded stream, so a run is reproducible from its seed.
            _envs[i].Reset(null, observation);
        }
    }

    public ValueTask StepAsync(ReadOnlyMemory<float> actions, Memory<byte> reachedFrames, CancellationToken cancellationToken)
    {
        Step(actions.Span, reachedFrames.Span, renderParallelism: Environment.ProcessorCount);
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]> SaveStateAsync(CancellationToken cancellationToken) => ValueTask.FromResult(SaveState());

    public ValueTask LoadStateAsync(byte[] state, CancellationToken cancellationToken)
    {
        LoadState(state);
        return ValueTask.CompletedTask;
    }

    public byte[] SaveState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) SaveState(writer);
        return stream.ToArray();
    }

    public void LoadState(byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        try
        {
            LoadState(reader);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Saved state of {Count}×{Spec.Id} ends early: it is truncated.", e);
        }
    }

    /// <summary>Snapshot of every copy and of the episode bookkeeping, for checkpoints.</summary>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(Count);
        writer.Write(Spec.Id);
        foreach (var env in _envs) env.SaveState(writer);
        foreach (var value in Observations) writer.Write(value);
        foreach (var value in EpisodeReturns) writer.Write(value);
        foreach (var value in EpisodeLengths) writer.Write(value);
    }

    public void LoadState(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        var id = reader.ReadString();
        if (count != Count || id != Spec.Id)
        {
            throw new InvalidDataException($"Saved state is for {count}×{id}, this vectorized environment is {Count}×{Spec.Id}.");
        }
        foreach (var env in _envs) env.LoadState(reader);
        for (var i = 0; i < Observations.Length; i++) Observations[i] = reader.ReadSingle();
        for (var i = 0; i < Count; i++) EpisodeReturns[i] = reader.ReadSingle();
        for (var i = 0; i < Count; i++) EpisodeLengths[i] = reader.ReadInt32();
    }

    /// <summary>Renders every copy into <paramref name="frames"/> (Count × H × W × 3), in parallel when asked.</summary>
    public void Render(Span<byte> frames, int maxDegreeOfParallelism = 1)
    {
        var frameBytes = FrameBytes;
        if (frames.Length != Count * frameBytes)
        {
            throw new ArgumentException($"{Spec.Id}: frame buffer must be {Count}×{Spec.RenderHeight}×{Spec.RenderWidth}×3 = {Count * frameBytes} bytes, got {frames.Length}.", nameof(frames));
        }
        if (maxDegreeOfParallelism <= 1 || Count == 1)
        {
            for (var i = 0; i < _envs.Length; i++) _envs[i].Render(frames.Slice(i * frameBytes, frameBytes));
            return;
        }
        RenderInParallel(frames, maxDegreeOfParallelism);
    }

    // Kept apart so the serial path does not pay for the lambda's closure.
    private unsafe void RenderInParallel(Span<byte> frames, int maxDegreeOfParallelism)
    {
        var frameBytes = FrameBytes;
        fixed (byte* pointer = frames)
        {
            var address = (nint)pointer;
            RenderWorkers.WithThreads(Math.Min(maxDegreeOfParallelism, Count)).Run(Count, i =>
                _envs[i].Render(new Span<byte>((byte*)address + (long)i * frameBytes, frameBytes)));
        }
    }

    public Span<float> ObservationSlot(float[] buffer, int index) =>
        buffer.AsSpan(index * Spec.ObservationSize, Spec.ObservationSize);

    public void Dispose()
    {
        foreach (var env in _envs) env.Dispose();
    }
}
