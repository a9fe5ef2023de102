using TorchSharp;
using TorchSharp.Modules;
using VlmRm.Envs;
using VlmRm.Rl.Buffers;
using static TorchSharp.torch;

namespace VlmRm.Rl.Algorithms;

/// <summary>SAC hyperparameters; defaults are Stable-Baselines3's.</summary>
public sealed record SacOptions : OffPolicyOptions
{
    /// <summary>"auto" (learned, initial 1), "auto_X" (learned, initial X) or a fixed number.</summary>
    public string EntCoef { get; init; } = "auto";

    /// <summary>"auto" = −dim(action space), or a number.</summary>
    public string TargetEntropy { get; init; } = "auto";

    public int TargetUpdateInterval { get; init; } = 1;

    /// <summary>Optional exploration noise added to the sampled action (SB3's action_noise): none, normal or ornstein_uhlenbeck.</summary>
    public string ActionNoise { get; init; } = "none";

    public double ActionNoiseSigma { get; init; } = 0.1;
}

/// <summary>
/// Soft Actor-Critic as Stable-Baselines3 implements it (sac/sac.py): squashed Gaussian actor, twin Q
/// critics with Polyak-averaged targets, and a fixed or learned entropy coefficient. One training step:
///   1. α loss  −log α · (log π(a|s) + H̄)   (learned α only), step α's optimizer;
///   2. target  y = r + γ(1 − terminated)(min Q̄(s′, a′) − α log π(a′|s′)),  a′ ~ π(·|s′);
///   3. critic  ½ Σᵢ MSE(Qᵢ(s, a), y);
///   4. actor   mean(α log π(ã|s) − min Qᵢ(s, ã)),  ã ~ π(·|s) reparameterized;
///   5. every target_update_interval steps: Q̄ ← τQ + (1 − τ)Q̄.
/// </summary>
public sealed class Sac : IOffPolicyAlgorithm
{
    private readonly SacOptions _options;
    private readonly int _observationSize;
    private readonly int _actionSize;
    private readonly float[] _low;
    private readonly float[] _high;
    private readonly Device _device;
    private readonly Generator _generator;
    private readonly SquashedGaussianActor _actor;
    private readonly TwinCritic _critic;
    private readonly TwinCritic _criticTarget;
    private readonly AdamOptimizer _actorOptimizer;
    private readonly AdamOptimizer _criticOptimizer;
    private readonly Parameter? _logEntCoef;
    private readonly AdamOptimizer? _entCoefOptimizer;
    private readonly double _fixedEntCoef;
    private readonly double _targetEntropy;
    private readonly float[] _noiseState;
    private long _gradientSteps;
    private readonly long _totalTimesteps;
    private long _timesteps;

    public Sac(SacOptions options, int observationSize, BoxSpace actionSpace, long totalTimesteps, Device device, long seed)
    {
        _options = options;
        _totalTimesteps = totalTimesteps;
        _observationSize = observationSize;
        _actionSize = actionSpace.FlatSize;
        _low = actionSpace.Low;
        _high = actionSpace.High;
        if (_low.Concat(_high).Any(v => !float.IsFinite(v))) throw new ArgumentException("SAC needs a bounded action space.");
        _device = device;
        _generator = new Generator((ulong)seed, device);
        _noiseState = new float[_actionSize * 64];

        using (NewDisposeScope())
        {
            manual_seed(seed);
            _actor = new SquashedGaussianActor(observationSize, _actionSize, options.NetArch);
            _critic = new TwinCritic(observationSize, _actionSize, options.NetArch);
            _criticTarget = new TwinCritic(observationSize, _actionSize, options.NetArch);
            _actor.to(device);
            _critic.to(device);
            _criticTarget.to(device);
            Networks.CopyParameters(_critic, _criticTarget);
            _criticTarget.eval();
        }
        _actorOptimizer = new AdamOptimizer(_actor.parameters(), options.LearningRate);
        _criticOptimizer = new AdamOptimizer(_critic.parameters(), options.LearningRate);
        _targetEntropy = options.TargetEntropy == "auto" ? -_actionSize : ParseNumber(options.TargetEntropy, "target_entropy");
        if (options.EntCoef.StartsWith("auto", StringComparison.Ordinal))
        {
            var initial = options.EntCoef.Length > 5 ? ParseNumber(options.EntCoef[5..], "ent_coef") : 1.0;
            _logEntCoef = nn.Parameter(tensor(new[] { (float)Math.Log(initial) }, device: device));
            _entCoefOptimizer = new AdamOptimizer([_logEntCoef], options.LearningRate);
        }
        else
        {
            _fixedEntCoef = ParseNumber(options.EntCoef, "ent_coef");
        }
    }

    public double EntropyCoefficient => _logEntCoef is null ? _fixedEntCoef : Math.Exp(_logEntCoef.item<float>());

    public void Act(ReadOnlySpan<float> observations, int count, Span<float> bufferActions, ActMode mode, long timesteps, Rng rng)
    {
        if (mode == ActMode.Random)
        {
            for (var i = 0; i < bufferActions.Length; i++) bufferActions[i] = (float)rng.Uniform(-1, 1);
            return;
        }
        using (NewDisposeScope())
        using (no_grad())
        {
            var input = tensor(observations.ToArray(), [count, _observationSize]).to(_device);
            var action = mode == ActMode.Deterministic ? _actor.Deterministic(input) : _actor.Sample(input, _generator).Action;
            action.cpu().data<float>().CopyTo(bufferActions);
        }
        if (mode == ActMode.Explore) AddActionNoise(bufferActions, rng);
    }

    public void ToEnvironmentActions(ReadOnlySpan<float> bufferActions, Span<float> environmentActions)
    {
        for (var i = 0; i < bufferActions.Length; i++)
        {
            var d = i % _actionSize;
            environmentActions[i] = _low[d] + (bufferActions[i] + 1f) * 0.5f * (_high[d] - _low[d]);
        }
    }

    public void OnTimesteps(long timesteps) => _timesteps = timesteps;

    public TrainStatistics Train(ReplayBuffer buffer, int gradientSteps, Rng rng)
    {
        _actor.train();
        _critic.train();
        var learningRate = _options.LearningRateAt(_timesteps, _totalTimesteps);
        _actorOptimizer.LearningRate = _criticOptimizer.LearningRate = learningRate;
        if (_entCoefOptimizer is not null) _entCoefOptimizer.LearningRate = learningRate;
        double actorLoss = 0, criticLoss = 0, entCoefLoss = 0, entCoef = 0;
        for (var step = 0; step < gradientSteps; step++)
        {
            using var scope = NewDisposeScope();
            using var batch = buffer.Sample(_options.BatchSize, rng, _device);
            var (actionsPi, logProb) = _actor.Sample(batch.Observations, _generator);
            logProb = logProb.reshape(-1, 1);

            Tensor alpha;
            if (_logEntCoef is not null)
            {
                alpha = _logEntCoef.detach().exp();
                var loss = -(_logEntCoef * logProb.Plus(_targetEntropy).detach()).mean();
                _entCoefOptimizer!.zero_grad();
                loss.backward();
                _entCoefOptimizer.step();
                entCoefLoss = loss.item<float>();
            }
            else
            {
                alpha = tensor((float)_fixedEntCoef, device: _device);
            }
            entCoef = alpha.item<float>();

            Tensor target;
            using (no_grad())
            {
                var (nextActions, nextLogProb) = _actor.Sample(batch.NextObservations, _generator);
                var (q1Next, q2Next) = _criticTarget.forward(batch.NextObservations, nextActions);
                var nextQ = minimum(q1Next, q2Next).Minus(alpha * nextLogProb.reshape(-1, 1));
                target = Networks.TemporalDifferenceTarget(batch, _options.Gamma, nextQ);
            }
            var (q1, q2) = _critic.forward(batch.Observations, batch.Actions);
            var criticLossTensor = nn.functional.mse_loss(q1, target).Plus(nn.functional.mse_loss(q2, target)) * HeldScalars.Of(0.5);
            _criticOptimizer.zero_grad();
            criticLossTensor.backward();
            _criticOptimizer.step();
            criticLoss = criticLossTensor.item<float>();

            var (q1Pi, q2Pi) = _critic.forward(batch.Observations, actionsPi);
            var actorLossTensor = (alpha * logProb).Minus(minimum(q1Pi, q2Pi)).mean();
            _actorOptimizer.zero_grad();
            actorLossTensor.backward();
            _actorOptimizer.step();
            actorLoss = actorLossTensor.item<float>();

            _gradientSteps++;
            if (_gradientSteps % _options.TargetUpdateInterval == 0) Networks.PolyakUpdate(_critic, _criticTarget, _options.Tau);
        }
        return new TrainStatistics(new Dictionary<string, double>
        {
            ["train/actor_loss"] = actorLoss,
            ["train/critic_loss"] = criticLoss,
            ["train/ent_coef"] = entCoef,
            ["train/ent_coef_loss"] = entCoefLoss,
        });
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write("sac");
        writer.Write(_gradientSteps);
        Networks.Save(_actor, writer);
        Networks.Save(_critic, writer);
        Networks.Save(_criticTarget, writer);
        _actorOptimizer.Save(writer);
        _criticOptimizer.Save(writer);
        writer.Write(_logEntCoef is not null);
        if (_logEntCoef is not null)
        {
            writer.Write(_logEntCoef.item<float>());
            _entCoefOptimizer!.Save(writer);
        }
        SaveTensor(writer, _generator.get_state());
        foreach (var v in _noiseState) writer.Write(v);
    }

    public void Load(BinaryReader reader)
    {
        var kind = reader.ReadString();
        if (kind != "sac") throw new InvalidDataException($"Checkpoint holds a {kind} agent, not SAC.");
        _gradientSteps = reader.ReadInt64();
        Networks.Load(_actor, reader);
        Networks.Load(_critic, reader);
        Networks.Load(_criticTarget, reader);
        _actorOptimizer.Load(reader);
        _criticOptimizer.Load(reader);
        var learned = reader.ReadBoolean();
        if (learned != _logEntCoef is not null) throw new InvalidDataException("Checkpoint and options disagree on whether the entropy coefficient is learned.");
        if (_logEntCoef is not null)
        {
            var value = reader.ReadSingle();
            using (no_grad())
            using (var held = value.ToScalar())
            {
                _logEntCoef.fill_(held);
            }
            _entCoefOptimizer!.Load(reader);
        }
        _generator.set_state(LoadTensor(reader));
        for (var i = 0; i < _noiseState.Length; i++) _noiseState[i] = reader.ReadSingle();
    }

    public void Dispose()
    {
        _actor.Dispose();
        _critic.Dispose();
        _criticTarget.Dispose();
        _logEntCoef?.Dispose();
        _generator.Dispose();
    }

    internal static void SaveTensor(BinaryWriter writer, Tensor tensor)
    {
        var bytes = tensor.cpu().bytes.ToArray();
        writer.Write(tensor.shape.Length);
        foreach (var d in tensor.shape) writer.Write(d);
        writer.Write((int)tensor.dtype);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    internal static Tensor LoadTensor(BinaryReader reader)
    {
        var shape = new long[reader.ReadInt32()];
        for (var i = 0; i < shape.Length; i++) shape[i] = reader.ReadInt64();
        var dtype = (ScalarType)reader.ReadInt32();
        var bytes = reader.ReadBytes(reader.ReadInt32());
        var result = empty(shape, dtype);
        result.bytes = bytes;
        return result;
    }

    /// <summary>SB3's optional action noise on the squashed action, clipped back to [−1, 1].</summary>
    private void AddActionNoise(Span<float> actions, Rng rng)
    {
        if (_options.ActionNoise == "none") return;
        var sigma = (float)_options.ActionNoiseSigma;
        for (var i = 0; i < actions.Length; i++)
        {
            float noise;
            if (_options.ActionNoise == "ornstein_uhlenbeck")
            {
                // θ = 0.15, dt = 1e-2 as SB3's OrnsteinUhlenbeckActionNoise; one process per action slot.
                var slot = i % _noiseState.Length;
                _noiseState[slot] += (float)(0.15 * -_noiseState[slot] * 1e-2 + sigma * Math.Sqrt(1e-2) * rng.NextGaussian());
                noise = _noiseState[slot];
            }
            else
            {
                noise = (float)(sigma * rng.NextGaussian());
            }
            actions[i] = Math.Clamp(actions[i] + noise, -1f, 1f);
        }
    }

    private static double ParseNumber(string text, string key) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{key}: '{text}' is neither 'auto' nor a number.");
}
