using TorchSharp;
using static TorchSharp.torch;

namespace VlmRm.Rl.Algorithms;

/// <summary>
/// Adam (Kingma and Ba 2015) exactly as PyTorch's <c>torch.optim.Adam</c> computes it, with AdamW's decoupled
/// weight decay (Loshchilov and Hutter 2019) when <c>weightDecay</c> &gt; 0:
///   p ← p·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
/// Why not TorchSharp's own: in 0.107 its optimizers pass Scalars converted from doubles to native calls
/// (<c>addcmul_(g, g, value: 1 − β₂)</c>) without keeping them alive, so a garbage collection on another thread
/// can finalize the Scalar while the call reads it. Two learners and a CLIP model in one silo hit this after
/// ~43k steps ("Expected false to be true ... toFloat at Scalar.h" in addcmul_, the run failed). Here the run's
/// constants are <see cref="HeldScalars"/> and the values that change every step live in variables that outlast
/// the calls.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private const string StateMagic = "ADAM1";

    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly double _weightDecay;
    private long _step;

    public AdamOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
        (_beta1, _beta2, _epsilon, _weightDecay) = (beta1, beta2, epsilon, weightDecay);
        _firstMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _secondMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public double LearningRate { get; set; }

    public void zero_grad()
    {
        foreach (var p in _parameters) p.grad?.zero_();
    }

    public void step()
    {
        _step++;
        using var _ = no_grad();
        var biasCorrection1 = 1 - Math.Pow(_beta1, _step);
        var biasCorrection2 = 1 - Math.Pow(_beta2, _step);
        var (beta1, oneMinusBeta1) = (HeldScalars.Of(_beta1), HeldScalars.Of(1 - _beta1));
        var (beta2, oneMinusBeta2) = (HeldScalars.Of(_beta2), HeldScalars.Of(1 - _beta2));
        var (epsilon, one) = (HeldScalars.Of(_epsilon), HeldScalars.Of(1));
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var negativeStepSize = (-LearningRate / biasCorrection1).ToScalar();
        using var decay = (1 - LearningRate * _weightDecay).ToScalar();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            if (parameter.grad is not { } grad) continue;
            if (_weightDecay != 0) parameter.mul_(decay);
            _firstMoments[i].mul_(beta1).add_(grad, alpha: oneMinusBeta1);
            _secondMoments[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            using var denominator = _secondMoments[i].sqrt().div_(sqrtBiasCorrection2).add_(epsilon, alpha: one);
            parameter.addcdiv_(_firstMoments[i], denominator, negativeStepSize);
        }
    }

    /// <summary>Step count and both moments of every parameter, in parameter order.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(StateMagic);
        writer.Write(_step);
        writer.Write(_parameters.Length);
        foreach (var moment in _firstMoments.Concat(_secondMoments)) WriteTensor(writer, moment);
    }

    public void Load(BinaryReader reader)
    {
        if (reader.ReadString() != StateMagic) throw new InvalidDataException("optimizer state is not an Adam state of this build");
        var step = reader.ReadInt64();
        var count = reader.ReadInt32();
        if (count != _parameters.Length) throw new InvalidDataException($"optimizer state holds {count} parameters, the model has {_parameters.Length}");
        foreach (var moment in _firstMoments.Concat(_secondMoments)) ReadTensor(reader, moment);
        _step = step;
    }

    private static void WriteTensor(BinaryWriter writer, Tensor tensor)
    {
        var values = tensor.detach().cpu().contiguous().data<float>().ToArray();
        writer.Write(values.Length);
        foreach (var value in values) writer.Write(value);
    }

    private static void ReadTensor(BinaryReader reader, Tensor tensor)
    {
        var length = reader.ReadInt32();
        if (length != tensor.numel()) throw new InvalidDataException($"optimizer moment has {length} values, the parameter {tensor.numel()}");
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = reader.ReadSingle();
        using var _ = no_grad();
        using var loaded = torch.tensor(values, tensor.shape).to(tensor.device);
        tensor.copy_(loaded);
    }

    public void Dispose()
    {
        foreach (var moment in _firstMoments.Concat(_secondMoments)) moment.Dispose();
    }
}
