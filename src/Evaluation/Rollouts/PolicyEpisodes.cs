using VlmRm.Envs;
using VlmRm.Rl.Algorithms;

namespace VlmRm.Evaluation.Rollouts;

/// <summary>
/// Episodes of a checkpoint's deterministic policy on one environment. The first episode starts from the seed,
/// later ones continue the environment's own stream. The callback sees every step while the environment is still
/// in the reached state (before any reset), so it can render it or read the body for a pose test.
/// </summary>
internal sealed class PolicyEpisodes(IOffPolicyAlgorithm policy, IEnv env, long timesteps, int seed)
{
    private readonly float[] _observation = new float[env.Spec.ObservationSize];
    private readonly float[] _bufferAction = new float[env.Spec.ActionSize];
    private readonly float[] _action = new float[env.Spec.ActionSize];
    private readonly Rng _rng = new((ulong)seed);
    private bool _started;

    /// <summary>Plays one episode to its end; returns its return under the environment's reward.</summary>
    public double Run(Action<int, StepResult> onStep, CancellationToken cancellationToken)
    {
        if (!_started) env.Reset(seed, _observation);
        _started = true;
        double total = 0;
        for (var step = 0; ; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            policy.Act(_observation, 1, _bufferAction, ActMode.Deterministic, timesteps, _rng);
            policy.ToEnvironmentActions(_bufferAction, _action);
            var result = env.Step(_action, _observation);
            total += result.Reward;
            onStep(step, result);
            if (!result.Done) continue;
            env.Reset(null, _observation);
            return total;
        }
    }
}
