namespace VlmRm.Evaluation.Epic;

/// <summary>
/// A reward function over batches of transitions (s, a, s'): states, actions and next states are laid out
/// contiguously (count × dimension); one reward per transition goes to <c>rewards</c>.
/// </summary>
public delegate void TransitionReward(ReadOnlySpan<float> states, ReadOnlySpan<float> actions, ReadOnlySpan<float> nextStates, Span<double> rewards);

/// <summary>
/// Transitions to compare rewards on, and the distributions D_S, D_A that canonicalization averages over
/// (Gleave et al. 2021, section 4). All arrays are flat: count × StateSize or count × ActionSize.
/// </summary>
public sealed record EpicSample(int StateSize, int ActionSize, float[] States, float[] Actions, float[] NextStates,
    float[] CanonicalStates, float[] CanonicalActions, float[] CanonicalNextStates)
{
    public int Transitions => States.Length / StateSize;
    public int CanonicalSamples => CanonicalStates.Length / StateSize;

    public void Validate()
    {
        if (StateSize < 1 || ActionSize < 0) throw new ArgumentException($"State size {StateSize} / action size {ActionSize} is not valid.");
        if (Transitions < 2) throw new ArgumentException($"EPIC needs at least 2 transitions, the sample has {Transitions}.");
        if (States.Length != Transitions * StateSize || NextStates.Length != States.Length || Actions.Length != Transitions * ActionSize)
        {
            throw new ArgumentException($"Transition arrays disagree: {States.Length} state values, {NextStates.Length} next-state values, {Actions.Length} action values for {Transitions} transitions of state size {StateSize} and action size {ActionSize}.");
        }
        if (CanonicalSamples < 1 || CanonicalStates.Length != CanonicalSamples * StateSize || CanonicalNextStates.Length != CanonicalStates.Length || CanonicalActions.Length != CanonicalSamples * ActionSize)
        {
            throw new ArgumentException($"Canonicalization arrays disagree: {CanonicalStates.Length} S values, {CanonicalNextStates.Length} S' values, {CanonicalActions.Length} A values.");
        }
    }
}

/// <summary>
/// Paper appendix A. EPIC distance (Definition 2, Eq. 4): D = (1/√2)·√(1 − ρ(C(R₁), C(R₂))), with ρ the Pearson
/// correlation over a distribution of transitions and C the canonically shaped reward
///   C(R)(s, a, s') = R(s, a, s') + E[γR(s', A, S') − R(s, A, S') − γR(S, A, S')],  S, S' ~ D_S, A ~ D_A.
/// For goal-based tasks whose ground truth is the indicator of the goal set (Lemma 1), canonicalization
/// drops out and D = (1/√2)·√(1 − ρ(R_CLIP, 1_goal)) over the labelled states.
/// </summary>
public static class EpicDistance
{
    /// <summary>Eq. 4 from a Pearson correlation.</summary>
    public static double FromCorrelation(double rho) => Math.Sqrt(Math.Max(0, 1 - rho) / 2);

    /// <summary>Lemma 1: EPIC distance between rewards of labelled states and their binary goal labels.</summary>
    public static double ToGoalLabels(ReadOnlySpan<float> rewards, ReadOnlySpan<bool> isGoal)
    {
        if (rewards.Length != isGoal.Length) throw new ArgumentException($"{rewards.Length} rewards for {isGoal.Length} labels.");
        var goals = 0;
        foreach (var g in isGoal) goals += g ? 1 : 0;
        if (goals == 0 || goals == isGoal.Length)
        {
            throw new ArgumentException($"EPIC to goal labels needs goal and non-goal states; all {isGoal.Length} states are labelled {(goals == 0 ? "non-goal" : "goal")}.");
        }
        var x = new double[rewards.Length];
        var y = new double[rewards.Length];
        for (var i = 0; i < x.Length; i++)
        {
            if (!float.IsFinite(rewards[i])) throw new ArgumentException($"Reward of state {i} is {rewards[i]}.");
            x[i] = rewards[i];
            y[i] = isGoal[i] ? 1 : 0;
        }
        return FromCorrelation(Pearson(x, y));
    }

    /// <summary>Definition 2 for two general reward functions, canonicalized with discount <paramref name="gamma"/> on a sample.</summary>
    public static double Between(TransitionReward first, TransitionReward second, EpicSample sample, double gamma)
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The discount γ must be in [0, 1].");
        sample.Validate();
        return FromCorrelation(Pearson(Canonicalize(first, sample, gamma), Canonicalize(second, sample, gamma)));
    }

    /// <summary>
    /// C(R) on every transition of the sample. The expectations are Monte Carlo means over the M canonical
    /// triples (S_j, A_j, S'_j): for each transition, R(s', A_j, S'_j) and R(s, A_j, S'_j) over j; the last
    /// term is one constant. Using the same triples for every reward keeps potential shaping exactly
    /// cancelled up to a constant, which the Pearson correlation ignores.
    /// </summary>
    public static double[] Canonicalize(TransitionReward reward, EpicSample sample, double gamma)
    {
        sample.Validate();
        int n = sample.Transitions, m = sample.CanonicalSamples, ds = sample.StateSize;
        var direct = new double[n];
        reward(sample.States, sample.Actions, sample.NextStates, direct);
        CheckFinite(direct, "R(s, a, s')");

        var constant = new double[m];
        reward(sample.CanonicalStates, sample.CanonicalActions, sample.CanonicalNextStates, constant);
        CheckFinite(constant, "R(S, A, S')");
        var meanConstant = constant.Average();

        // One batch per transition: m copies of the fixed state against the canonical (A, S') pairs.
        var repeated = new float[m * ds];
        var fromNext = new double[m];
        var fromState = new double[m];
        var canonical = new double[n];
        for (var i = 0; i < n; i++)
        {
            Repeat(sample.NextStates.AsSpan(i * ds, ds), repeated);
            reward(repeated, sample.CanonicalActions, sample.CanonicalNextStates, fromNext);
            Repeat(sample.States.AsSpan(i * ds, ds), repeated);
            reward(repeated, sample.CanonicalActions, sample.CanonicalNextStates, fromState);
            CheckFinite(fromNext, "R(s', A, S')");
            CheckFinite(fromState, "R(s, A, S')");
            canonical[i] = direct[i] + gamma * fromNext.Average() - fromState.Average() - gamma * meanConstant;
        }
        return canonical;
    }

    /// <summary>
    /// A reward of the reached state alone, R(s, a, s') = f(s') (CLIP rewards, goal indicators). Canonicalization
    /// asks for f on the same canonical S' batch 2N times; the last batch's rewards are kept and reused.
    /// </summary>
    public static TransitionReward OfNextState(Action<ReadOnlySpan<float>, Span<double>> rewardOfStates)
    {
        float[]? lastInput = null;
        double[]? lastOutput = null;
        return (_, _, nextStates, rewards) =>
        {
            if (lastInput is not null && nextStates.SequenceEqual(lastInput))
            {
                lastOutput.AsSpan().CopyTo(rewards);
                return;
            }
            rewardOfStates(nextStates, rewards);
            lastInput = nextStates.ToArray();
            lastOutput = rewards.ToArray();
        };
    }

    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length || x.Length < 2) throw new ArgumentException($"Pearson correlation needs two series of equal length ≥ 2 (got {x.Length} and {y.Length}).");
        double meanX = 0, meanY = 0;
        for (var i = 0; i < x.Length; i++)
        {
            meanX += x[i];
            meanY += y[i];
        }
        meanX /= x.Length;
        meanY /= y.Length;
        double covariance = 0, varianceX = 0, varianceY = 0;
        for (var i = 0; i < x.Length; i++)
        {
            double dx = x[i] - meanX, dy = y[i] - meanY;
            covariance += dx * dy;
            varianceX += dx * dx;
            varianceY += dy * dy;
        }
        if (varianceX <= 0 || varianceY <= 0)
        {
            throw new ArgumentException($"Pearson correlation is undefined: one reward is constant on this sample (variances {varianceX:G3} and {varianceY:G3}).");
        }
        return Math.Clamp(covariance / Math.Sqrt(varianceX * varianceY), -1, 1);
    }

    private static void Repeat(ReadOnlySpan<float> state, Span<float> destination)
    {
        for (var offset = 0; offset < destination.Length; offset += state.Length) state.CopyTo(destination[offset..]);
    }

    private static void CheckFinite(ReadOnlySpan<double> values, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i])) throw new ArgumentException($"The reward function returned {values[i]} for {what} at index {i}.");
        }
    }
}
