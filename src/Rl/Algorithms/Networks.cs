using TorchSharp;
using static TorchSharp.torch;

namespace VlmRm.Rl.Algorithms;

/// <summary>Stable-Baselines3's building blocks: ReLU MLPs with PyTorch's default initialization.</summary>
internal static class Networks
{
    /// <summary>Linear → ReLU for each hidden width, then a Linear to <paramref name="outputs"/> (none when 0).</summary>
    public static nn.Module<Tensor, Tensor> Mlp(int inputs, IReadOnlyList<int> hidden, int outputs)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        var width = inputs;
        for (var i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"linear{i}", nn.Linear(width, hidden[i])));
            layers.Add(($"relu{i}", nn.ReLU()));
            width = hidden[i];
        }
        if (outputs > 0) layers.Add(("out", nn.Linear(width, outputs)));
        return nn.Sequential(layers);
    }

    /// <summary>SB3's polyak_update: target ← τ·source + (1 − τ)·target, in place, without gradients.</summary>
    public static void PolyakUpdate(nn.Module source, nn.Module target, double tau)
    {
        using var _ = no_grad();
        foreach (var (s, t) in source.parameters().Zip(target.parameters()))
        {
            t.mul_(HeldScalars.Of(1 - tau)).add_(s, alpha: HeldScalars.Of(tau));
        }
    }

    public static void CopyParameters(nn.Module source, nn.Module target) => PolyakUpdate(source, target, 1.0);

    /// <summary>The one-step bootstrapped target y = r + γ(1 − terminated)·V(s′) of DQN and SAC.</summary>
    public static Tensor TemporalDifferenceTarget(Buffers.TransitionBatch batch, double gamma, Tensor nextValue) =>
        batch.Rewards.Plus(batch.Terminated.neg().Plus(1) * HeldScalars.Of(gamma) * nextValue);

    public static void Save(nn.Module module, BinaryWriter writer) => module.save(writer);

    public static void Load(nn.Module module, BinaryReader reader) => module.load(reader);
}

/// <summary>SAC's actor: MLP latent, mean and log-std heads, tanh-squashed Gaussian (SB3's SquashedDiagGaussianDistribution).</summary>
internal sealed class SquashedGaussianActor : nn.Module<Tensor, (Tensor Mean, Tensor LogStd)>
{
    private const double LogStdMin = -20;
    private const double LogStdMax = 2;
    private const double Epsilon = 1e-6;

    private readonly nn.Module<Tensor, Tensor> _latent;
    private readonly nn.Module<Tensor, Tensor> _mean;
    private readonly nn.Module<Tensor, Tensor> _logStd;

    public SquashedGaussianActor(int observations, int actions, IReadOnlyList<int> hidden) : base(nameof(SquashedGaussianActor))
    {
        _latent = Networks.Mlp(observations, hidden, 0);
        var width = hidden.Count > 0 ? hidden[^1] : observations;
        _mean = nn.Linear(width, actions);
        _logStd = nn.Linear(width, actions);
        RegisterComponents();
    }

    public override (Tensor Mean, Tensor LogStd) forward(Tensor observations)
    {
        var latent = _latent.forward(observations);
        return (_mean.forward(latent), _logStd.forward(latent).clamp(HeldScalars.Of(LogStdMin), HeldScalars.Of(LogStdMax)));
    }

    /// <summary>A reparameterized sample in [−1, 1] and its log-probability (with the tanh correction).</summary>
    public (Tensor Action, Tensor LogProb) Sample(Tensor observations, Generator generator)
    {
        var (mean, logStd) = forward(observations);
        var std = logStd.exp();
        var noise = randn(mean.shape, generator: generator, device: mean.device);
        var preTanh = mean.Plus(std * noise);
        var action = preTanh.tanh();
        var gaussian = (noise * noise * HeldScalars.Of(-0.5)).Minus(logStd).Plus(-0.5 * Math.Log(2 * Math.PI)).sum(1);
        var correction = (action * action).neg().Plus(1).Plus(Epsilon).log().sum(1);
        return (action, gaussian.Minus(correction));
    }

    public Tensor Deterministic(Tensor observations) => forward(observations).Mean.tanh();
}

/// <summary>SAC's twin critics: two MLPs on (observation, action) → Q.</summary>
internal sealed class TwinCritic : nn.Module<Tensor, Tensor, (Tensor Q1, Tensor Q2)>
{
    private readonly nn.Module<Tensor, Tensor> _q1;
    private readonly nn.Module<Tensor, Tensor> _q2;

    public TwinCritic(int observations, int actions, IReadOnlyList<int> hidden) : base(nameof(TwinCritic))
    {
        _q1 = Networks.Mlp(observations + actions, hidden, 1);
        _q2 = Networks.Mlp(observations + actions, hidden, 1);
        RegisterComponents();
    }

    public override (Tensor Q1, Tensor Q2) forward(Tensor observations, Tensor actions)
    {
        var input = cat([observations, actions], 1);
        return (_q1.forward(input), _q2.forward(input));
    }
}
