using System.Numerics;
using System.Numerics.Tensors;

namespace VlmRm.Clip.Reward;

/// <summary>
/// The CLIP reward of paper section 3: Eq. (2) R_CLIP(s) = ⟨CLIP_L(l), CLIP_I(ψ(s))⟩ / (‖·‖‖·‖), and
/// Definition 1 / Eq. (3), goal-baseline regularization:
///   R_CLIP-Reg(s) = 1 − ½ ‖α·proj_L s + (1 − α)·s − g‖²
/// with g, b, s the normalized goal, baseline and state embeddings and L the line through b and g.
/// Writing u = (g − b)/‖g − b‖ and d = s − g, proj_L s = g + (u·d)u, so the vector inside the norm is
/// α(u·d)u + (1 − α)d and its squared norm is (1 − α)²‖d‖² + α(2 − α)(u·d)². At α = 0 the reward is
/// 1 − ½‖s − g‖² = s·g, i.e. exactly Eq. (2); at α = 1 only the component along g − b remains.
/// </summary>
public sealed class ClipReward
{
    private readonly float[] _goal;
    private readonly float[] _direction;

    /// <param name="goal">Goal prompt embedding (any norm; averaged embeddings of several prompts allowed).</param>
    /// <param name="baseline">Baseline prompt embedding; ignored when <paramref name="alpha"/> is 0.</param>
    /// <param name="alpha">Regularization strength in [0, 1].</param>
    public ClipReward(ReadOnlySpan<float> goal, ReadOnlySpan<float> baseline, float alpha)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Goal-baseline regularization strength α must be in [0, 1].");
        if (baseline.Length != goal.Length) throw new ArgumentException($"Goal embedding has {goal.Length} values, baseline {baseline.Length}.");
        Alpha = alpha;
        _goal = Normalized(goal, "goal");
        var b = Normalized(baseline, "baseline");
        _direction = new float[goal.Length];
        for (var i = 0; i < _direction.Length; i++) _direction[i] = _goal[i] - b[i];
        var length = Norm(_direction);
        if (length < 1e-6f)
        {
            if (alpha > 0) throw new ArgumentException("Goal and baseline prompts embed to the same direction: the line L of Definition 1 is undefined. Use different prompts or α = 0.");
            return;
        }
        for (var i = 0; i < _direction.Length; i++) _direction[i] /= length;
    }

    public float Alpha { get; }
    public int Dimension => _goal.Length;

    /// <summary>Reward of one state embedding (any norm).</summary>
    public float Score(ReadOnlySpan<float> stateEmbedding)
    {
        if (stateEmbedding.Length != _goal.Length) throw new ArgumentException($"State embedding has {stateEmbedding.Length} values, the prompts {_goal.Length}.");
        var norm = Norm(stateEmbedding);
        if (!(norm > 0) || !float.IsFinite(norm)) throw new ArgumentException($"State embedding has norm {norm}; CLIP produced a zero or non-finite embedding.");
        double dd = 0, ud = 0;
        for (var i = 0; i < _goal.Length; i++)
        {
            double d = stateEmbedding[i] / norm - _goal[i];
            dd += d * d;
            ud += _direction[i] * d;
        }
        double a = Alpha;
        var squared = (1 - a) * (1 - a) * dd + a * (2 - a) * ud * ud;
        return (float)(1 - 0.5 * squared);
    }

    /// <summary>Rewards of <c>count</c> embeddings laid out contiguously (count × Dimension).</summary>
    public void Score(ReadOnlySpan<float> stateEmbeddings, Span<float> rewards)
    {
        var count = rewards.Length;
        if (stateEmbeddings.Length != count * Dimension) throw new ArgumentException($"{stateEmbeddings.Length} floats is not {count} embeddings of {Dimension}.");
        for (var i = 0; i < count; i++) rewards[i] = Score(stateEmbeddings.Slice(i * Dimension, Dimension));
    }

    /// <summary>
    /// Rewards of stored fp16 embeddings (rewards.Length rows of Dimension values), equal to <see cref="Score(ReadOnlySpan{float})"/>
    /// of each up to float rounding, from three dot products a row: with ŝ = s/‖s‖ and g, u of unit length,
    /// ‖ŝ − g‖² = 2 − 2 s·g/‖s‖ and u·(ŝ − g) = s·u/‖s‖ − u·g. Re-rewarding a replay buffer reads each embedding once.
    /// </summary>
    public void ScoreRows(ReadOnlySpan<Half> rows, Span<float> rewards)
    {
        var count = rewards.Length;
        if (rows.Length != count * Dimension) throw new ArgumentException($"{rows.Length} values is not {count} embeddings of {Dimension}.");
        var row = new float[Dimension];
        var goalAlongDirection = TensorPrimitives.Dot(_goal, _direction);
        double a = Alpha;
        for (var i = 0; i < count; i++)
        {
            TensorPrimitives.ConvertToSingle(rows.Slice(i * Dimension, Dimension), row);
            var (squares, alongGoal, alongDirection) = ThreeDots(row);
            var norm = MathF.Sqrt(squares);
            if (!(norm > 0) || !float.IsFinite(norm)) throw new ArgumentException($"Stored embedding {i} has norm {norm}: zero or not finite.");
            double dd = 2 - 2 * alongGoal / norm;
            double ud = alongDirection / norm - goalAlongDirection;
            rewards[i] = (float)(1 - 0.5 * ((1 - a) * (1 - a) * dd + a * (2 - a) * ud * ud));
        }
    }

    /// <summary>s·s, s·g and s·u in one pass over s.</summary>
    private (float Squares, float AlongGoal, float AlongDirection) ThreeDots(ReadOnlySpan<float> s)
    {
        var (squares, alongGoal, alongDirection) = (Vector<float>.Zero, Vector<float>.Zero, Vector<float>.Zero);
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= s.Length - width; i += width)
        {
            var v = new Vector<float>(s[i..]);
            squares += v * v;
            alongGoal += v * new Vector<float>(_goal, i);
            alongDirection += v * new Vector<float>(_direction, i);
        }
        var (ss, sg, su) = (Vector.Sum(squares), Vector.Sum(alongGoal), Vector.Sum(alongDirection));
        for (; i < s.Length; i++) (ss, sg, su) = (ss + s[i] * s[i], sg + s[i] * _goal[i], su + s[i] * _direction[i]);
        return (ss, sg, su);
    }

    /// <summary>Eq. (2): cosine similarity.</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return (float)(dot / Math.Sqrt(na * nb));
    }

    /// <summary>Several prompts for one role: normalize each embedding, average, as the paper's code does.</summary>
    public static float[] AverageOfNormalized(ReadOnlySpan<float> embeddings, int count)
    {
        if (count < 1) throw new ArgumentException("At least one prompt is needed.");
        var dimension = embeddings.Length / count;
        var mean = new float[dimension];
        for (var p = 0; p < count; p++)
        {
            var e = embeddings.Slice(p * dimension, dimension);
            var norm = Norm(e);
            for (var i = 0; i < dimension; i++) mean[i] += e[i] / norm / count;
        }
        return mean;
    }

    private static float[] Normalized(ReadOnlySpan<float> v, string role)
    {
        var norm = Norm(v);
        if (!(norm > 0) || !float.IsFinite(norm)) throw new ArgumentException($"The {role} embedding has norm {norm}.");
        var result = new float[v.Length];
        for (var i = 0; i < v.Length; i++) result[i] = v[i] / norm;
        return result;
    }

    private static float Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (var x in v) sum += x * (double)x;
        return (float)Math.Sqrt(sum);
    }
}
