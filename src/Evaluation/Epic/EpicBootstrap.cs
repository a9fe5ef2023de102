namespace VlmRm.Evaluation.Epic;

/// <summary>The range an EPIC distance (or a difference of two) falls in when the labelled states are drawn again, at <see cref="Level"/>.</summary>
public readonly record struct EpicInterval(double Low, double High, double Level)
{
    public bool Contains(double value) => Low <= value && value <= High;

    public override string ToString() => $"{Level:P0} bootstrap interval {Low:F3} to {High:F3}";
}

/// <summary>
/// How much an EPIC distance to goal labels (Lemma 1) owes to which states happened to be labelled: a percentile
/// bootstrap over the states. Two labelled sets of 400 Humanoid states with 34–40 goals gave distances up to 0.04
/// apart for one model, as large as the gaps between model sizes in Fig. 4; the interval says which gaps a set resolves.
/// The resampling is stratified: goal and non-goal states are drawn with replacement within their class, each class
/// keeping its count, so every resample has both classes (Lemma 1 needs them) and the set's goal share.
/// Two reward models scored on the same states are compared on the same resamples (<see cref="DifferenceInterval"/>),
/// so the difference's interval follows how their errors go together, which two separate intervals cannot: narrower
/// than either when the same states are hard for both, wider when each errs on its own states.
/// Neither interval covers what a second training run of the same model would change.
/// </summary>
public static class EpicBootstrap
{
    public const int DefaultResamples = 1000;

    public static EpicInterval GoalLabelsInterval(float[] rewards, bool[] isGoal, double level = 0.95, int resamples = DefaultResamples, int seed = 0) =>
        Percentiles(Resample([rewards], isGoal, level, resamples, seed).Select(d => d[0]), level);

    /// <summary>The interval of EPIC(<paramref name="second"/>) − EPIC(<paramref name="first"/>): below zero throughout, the second is closer to the labels.</summary>
    public static EpicInterval DifferenceInterval(float[] first, float[] second, bool[] isGoal, double level = 0.95, int resamples = DefaultResamples, int seed = 0) =>
        Percentiles(Resample([first, second], isGoal, level, resamples, seed).Select(d => d[1] - d[0]), level);

    /// <summary>Each resample's EPIC distance for every reward model, the models seeing the same drawn states.</summary>
    private static List<double[]> Resample(float[][] models, bool[] isGoal, double level, int resamples, int seed)
    {
        if (!(level is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "The interval's level must be between 0 and 1.");
        if (resamples < 100) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "A bootstrap interval needs at least 100 resamples.");
        foreach (var rewards in models) EpicDistance.ToGoalLabels(rewards, isGoal); // its checks: lengths, both classes, finite rewards
        var goals = new List<int>();
        var others = new List<int>();
        for (var i = 0; i < isGoal.Length; i++) (isGoal[i] ? goals : others).Add(i);

        var random = new Random(seed);
        var drawn = new int[isGoal.Length];
        var labels = new double[isGoal.Length];
        for (var i = 0; i < goals.Count; i++) labels[i] = 1;
        var values = new double[isGoal.Length];
        var distances = new List<double[]>(resamples);
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < goals.Count; i++) drawn[i] = goals[random.Next(goals.Count)];
            for (var i = 0; i < others.Count; i++) drawn[goals.Count + i] = others[random.Next(others.Count)];
            var distance = new double[models.Length];
            for (var m = 0; m < models.Length; m++)
            {
                for (var i = 0; i < drawn.Length; i++) values[i] = models[m][drawn[i]];
                // A resample of one repeated reward has no correlation; it only happens when a class has a state or two.
                distance[m] = values.AsSpan().ContainsAnyExcept(values[0]) ? EpicDistance.FromCorrelation(EpicDistance.Pearson(values, labels)) : double.NaN;
            }
            if (!distance.Any(double.IsNaN)) distances.Add(distance);
        }
        if (distances.Count < resamples / 2)
        {
            throw new ArgumentException($"Only {distances.Count} of {resamples} resamples of {goals.Count} goal and {others.Count} non-goal states had rewards that vary; the set is too small for an interval.");
        }
        return distances;
    }

    private static EpicInterval Percentiles(IEnumerable<double> values, double level)
    {
        var sorted = values.Order().ToArray();
        var tail = (1 - level) / 2;
        return new EpicInterval(Quantile(sorted, tail), Quantile(sorted, 1 - tail), level);
    }

    /// <summary>The q-quantile of sorted values, interpolating linearly between neighbours.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
