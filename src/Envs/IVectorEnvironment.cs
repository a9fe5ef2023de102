namespace VlmRm.Envs;

/// <summary>
/// What Algorithm 1 sees of N environment copies: a <see cref="VectorEnv"/> in this process, or a proxy
/// for copies stepped elsewhere (the cluster's environment grain). Buffers follow VectorEnv's layout and
/// auto-reset semantics; one is handed over already reset. Stepping and state snapshots are asynchronous
/// because a remote step is a message.
/// </summary>
public interface IVectorEnvironment : IDisposable
{
    EnvSpec Spec { get; }
    int Count { get; }
    float[] Observations { get; }
    float[] FinalObservations { get; }
    float[] Rewards { get; }
    bool[] Terminated { get; }
    bool[] Truncated { get; }
    bool[] Successes { get; }
    float[] CompletedReturns { get; }
    int[] CompletedLengths { get; }

    /// <param name="reachedFrames">Where frames of the reached states go when the caller collects them (Count × H × W × 3), else empty.</param>
    ValueTask StepAsync(ReadOnlyMemory<float> actions, Memory<byte> reachedFrames, CancellationToken cancellationToken);

    /// <summary>Everything a resumed run needs to continue the copies identically.</summary>
    ValueTask<byte[]> SaveStateAsync(CancellationToken cancellationToken);

    ValueTask LoadStateAsync(byte[] state, CancellationToken cancellationToken);
}
