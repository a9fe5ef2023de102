using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace VlmRm.Rl.Algorithms;

/// <summary>
/// Scalars for tensor arithmetic, created once and kept alive for the process, and sums written with them.
/// TorchSharp 0.107 turns a number operand (<c>t * 0.5</c>) into a Scalar that nothing references once its handle
/// is passed to the native call, and its <c>+</c> and <c>−</c> do the same with their alpha = 1
/// (<c>add(target) => add(target, 1)</c>): a garbage collection on another thread can finalize that Scalar while
/// the call reads it. Runs failed with "toFloat at Scalar.h" (DQN's target with three runs in a silo, SAC's
/// <c>square()</c>, TorchSharp's Adam); <c>ScalarLifetimeTests</c> collects garbage without pause beside training
/// and fails within seconds on any such call. So training code multiplies by <see cref="Of"/> and adds with
/// <see cref="Plus(Tensor, Tensor)"/> / <see cref="Minus"/>, never with a bare number, <c>+</c>, <c>−</c> or helpers
/// that hide a Scalar (<c>square()</c> is <c>pow(2)</c>). Only for values fixed for a run: every value stays cached.
/// </summary>
public static class HeldScalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    public static Scalar Of(double value) => Cache.GetOrAdd(value, v => v.ToScalar());

    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, Of(1));

    /// <summary>a + b for a number b.</summary>
    public static Tensor Plus(this Tensor a, double b) => a.add(Of(b), Of(1));

    /// <summary>a − b (as a + (−1)·b: TorchSharp has no sub with an alpha; the product by −1 is exact).</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.add(b, Of(-1));
}
