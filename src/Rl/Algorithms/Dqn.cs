using TorchSharp;
using TorchSharp.Modules;
using VlmRm.Envs;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Logging;
using static TorchSharp.torch;

namespace VlmRm.Rl.Algorithms;

/// <summary>DQN hyperparameters; defaults are Stable-Baselines3's.</summary>
public sealed record DqnOptions : OffPolicyOptions
{
    public DqnOptions()
    {
        LearningRate = 1e-4;
        BatchSize = 32;
        Tau = 1.0;
        TrainFreq = 4;
        NetArch = [64, 64];
    }

    /// <summary>Environment steps between target network updates.</summary>
    public int TargetUpdateInterval { get; init; } = 10_000;

    public double ExplorationFraction { get; init; } = 0.1;
    public double ExplorationInitialEps { get; init; } = 1.0;
    public double ExplorationFinalEps { get; init; } = 0.05;
    public double MaxGradNorm { get; init; } = 10;

    /// <summary>
    /// Double DQN (van Hasselt et al., 2016): Q picks the next action and Q̄ values it, instead of Q̄ doing both. SB3's DQN
    /// is the plain form (false), as the paper ran it.
    /// </summary>
    public bool DoubleQ { get; init; }
}

/// <summary>
/// DQN as Stable-Baselines3 implements it (dqn/dqn.py): ε-greedy acting with ε decaying linearly from
/// initial to final over exploration_fraction of the run; one training step regresses
///   Q(s, a) → r + γ(1 − terminated) max_a′ Q̄(s′, a′)
/// with the Huber loss and gradient-norm clipping; the target network Q̄ is updated (τ = 1: copied)
/// every target_update_interval environment steps. With double_q the target is
///   r + γ(1 − terminated) Q̄(s′, argmax_a′ Q(s′, a′)).
/// </summary>
public sealed class Dqn : IOffPolicyAlgorithm
{
    private readonly DqnOptions _options;
    private readonly int _observationSize;
    private readonly int _actions;
    private readonly long _totalTimesteps;
    private readonly Device _device;
    private readonly nn.Module<Tensor, Tensor> _q;
    private readonly nn.Module<Tensor, Tensor> _qTarget;
    private readonly AdamOptimizer _optimizer;
    private long _lastTargetUpdate;
    private long _timesteps;

    public Dqn(DqnOptions options, int observationSize, DiscreteSpace actionSpace, long totalTimesteps, Device device, long seed)
    {
        _options = options;
        _observationSize = observationSize;
        _actions = actionSpace.N;
        _totalTimesteps = totalTimesteps;
        _device = device;
        manual_seed(seed);
        _q = Networks.Mlp(observationSize, options.NetArch, _actions);
        _qTarget = Networks.Mlp(observationSize, options.NetArch, _actions);
        _q.to(device);
        _qTarget.to(device);
        Networks.CopyParameters(_q, _qTarget);
        _qTarget.eval();
        _optimizer = new AdamOptimizer(_q.parameters(), options.LearningRate);
    }

    /// <summary>SB3's get_linear_fn: ε after <paramref name="timesteps"/> of the run.</summary>
    public double Epsilon(long timesteps)
    {
        var progress = timesteps / (double)_totalTimesteps;
        return progress > _options.ExplorationFraction
            ? _options.ExplorationFinalEps
            : _options.ExplorationInitialEps + progress * (_options.ExplorationFinalEps - _options.ExplorationInitialEps) / _options.ExplorationFraction;
    }

    public void Act(ReadOnlySpan<float> observations, int count, Span<float> bufferActions, ActMode mode, long timesteps, Rng rng)
    {
        var epsilon = mode switch { ActMode.Random => 1.0, ActMode.Explore => Epsilon(timesteps), _ => 0.0 };
        Span<float> greedy = stackalloc float[count];
        if (epsilon < 1.0)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var q = _q.forward(tensor(observations.ToArray(), [count, _observationSize]).to(_device));
            var best = q.argmax(1).to(ScalarType.Float32).cpu();
            best.data<float>().CopyTo(greedy);
        }
        for (var i = 0; i < count; i++)
        {
            bufferActions[i] = rng.NextDouble() < epsilon ? rng.NextInt(_actions) : greedy[i];
        }
    }

    public void ToEnvironmentActions(ReadOnlySpan<float> bufferActions, Span<float> environmentActions) => bufferActions.CopyTo(environmentActions);

    /// <summary>Called once per vectorized step with the run's timesteps; copies Q into Q̄ on schedule.</summary>
    public void OnTimesteps(long timesteps)
    {
        _timesteps = timesteps;
        if (timesteps - _lastTargetUpdate < _options.TargetUpdateInterval) return;
        _lastTargetUpdate = timesteps;
        Networks.PolyakUpdate(_q, _qTarget, _options.Tau);
    }

    public TrainStatistics Train(ReplayBuffer buffer, int gradientSteps, Rng rng)
    {
        _q.train();
        _optimizer.LearningRate = _options.LearningRateAt(_timesteps, _totalTimesteps);
        double loss = 0, meanQ = 0;
        for (var step = 0; step < gradientSteps; step++)
        {
            using var scope = NewDisposeScope();
            using var batch = buffer.Sample(_options.BatchSize, rng, _device);
            Tensor target;
            using (no_grad())
            {
                var nextTargetQ = _qTarget.forward(batch.NextObservations);
                var nextQ = _options.DoubleQ
                    ? nextTargetQ.gather(1, _q.forward(batch.NextObservations).argmax(1, keepdim: true))
                    : nextTargetQ.max(1).values.reshape(-1, 1);
                target = Networks.TemporalDifferenceTarget(batch, _options.Gamma, nextQ);
            }
            var current = _q.forward(batch.Observations).gather(1, batch.Actions.to(ScalarType.Int64));
            var lossTensor = nn.functional.smooth_l1_loss(current, target);
            _optimizer.zero_grad();
            lossTensor.backward();
            nn.utils.clip_grad_norm_(_q.parameters(), _options.MaxGradNorm);
            _optimizer.step();
            if (step == gradientSteps - 1)
            {
                loss = lossTensor.item<float>();
                meanQ = current.mean().item<float>();
            }
        }
        // Q of the sampled actions: without termination it should settle near the discounted return (±1/(1−γ)), and
        // growth past that is overestimation.
        return new TrainStatistics(new Dictionary<string, double> { ["train/loss"] = loss, [TrainingScalars.DqnMeanQ] = meanQ });
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write("dqn");
        writer.Write(_lastTargetUpdate);
        Networks.Save(_q, writer);
        Networks.Save(_qTarget, writer);
        _optimizer.Save(writer);
    }

    public void Load(BinaryReader reader)
    {
        var kind = reader.ReadString();
        if (kind != "dqn") throw new InvalidDataException($"Checkpoint holds a {kind} agent, not DQN.");
        _lastTargetUpdate = reader.ReadInt64();
        Networks.Load(_q, reader);
        Networks.Load(_qTarget, reader);
        _optimizer.Load(reader);
    }

    public void Dispose()
    {
        _q.Dispose();
        _qTarget.Dispose();
    }
}
