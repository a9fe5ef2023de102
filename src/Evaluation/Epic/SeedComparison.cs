namespace VlmRm.Evaluation.Epic;

/// <summary>One width's EPIC distances over its training seeds: their mean and range.</summary>
public sealed record SeedSpread(int Seeds, double Mean, double Min, double Max)
{
    public static SeedSpread Of(IReadOnlyCollection<double> distances)
    {
        if (distances.Count == 0) throw new ArgumentException("A width needs at least one trained model.", nameof(distances));
        return new SeedSpread(distances.Count, distances.Average(), distances.Min(), distances.Max());
    }

    public override string ToString() => Seeds == 1 ? $"{Mean:F3} (one training run)" : $"mean {Mean:F3} over {Seeds} training runs ({Min:F3} to {Max:F3})";
}

/// <summary>
/// Whether two model widths differ by more than their training runs do (paper Fig. 4 with several seeds per width).
/// <see cref="EpicBootstrap"/> says what a labelled set resolves about trained models; a second training run of one
/// width moved kneeling EPIC by 0.034, as much as a change of width, and no resampling of states covers that. With a
/// few runs per width the test that assumes nothing about how runs spread is an exact permutation test on ranks
/// (Mann–Whitney U): if width does not matter, every split of the pooled runs' distances into the two widths is as
/// likely as the observed one, and p is the share of splits whose U lies at least as far from its middle.
/// Three runs against three can reach p = 0.1 at best (2 of the 20 splits), which is what three seeds can say.
/// </summary>
public static class SeedComparison
{
    /// <summary>Enumerating the splits costs C(n₁ + n₂, n₁); 20 runs in all is 184,756 splits at most.</summary>
    public const int MaxRuns = 20;

    /// <summary>Two-sided exact p-value of the Mann–Whitney U test between two widths' distances (ties count a half).</summary>
    public static double TwoSidedP(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        Check(first, second);
        var pooled = first.Concat(second).ToArray();
        var middle = first.Count * second.Count / 2.0;
        var observed = Math.Abs(U(first, second) - middle);
        var (extreme, splits) = (0L, 0L);
        foreach (var chosen in Splits(pooled.Length, first.Count))
        {
            var (a, b) = (new List<double>(first.Count), new List<double>(second.Count));
            for (var i = 0; i < pooled.Length; i++) (chosen[i] ? a : b).Add(pooled[i]);
            splits++;
            // A tolerance, since U moves in halves and the two distances are computed alike.
            if (Math.Abs(U(a, b) - middle) >= observed - 1e-9) extreme++;
        }
        return (double)extreme / splits;
    }

    /// <summary>The smallest two-sided p any outcome can give with these numbers of runs: below the level asked for, no result can pass it.</summary>
    public static double SmallestP(int firstRuns, int secondRuns)
    {
        if (firstRuns < 1 || secondRuns < 1) throw new ArgumentOutOfRangeException(nameof(firstRuns), "Each width needs at least one training run.");
        return Math.Min(1, 2 / Binomial(firstRuns + secondRuns, firstRuns));
    }

    /// <summary>How often a value of <paramref name="first"/> exceeds one of <paramref name="second"/>, over all pairs.</summary>
    private static double U(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        var u = 0.0;
        foreach (var x in first)
        {
            foreach (var y in second) u += x > y ? 1 : x == y ? 0.5 : 0;
        }
        return u;
    }

    private static IEnumerable<bool[]> Splits(int total, int chosen)
    {
        var picked = new bool[total];
        return Choose(picked, 0, chosen);

        static IEnumerable<bool[]> Choose(bool[] picked, int from, int left)
        {
            if (left == 0)
            {
                yield return picked;
                yield break;
            }
            for (var i = from; i <= picked.Length - left; i++)
            {
                picked[i] = true;
                foreach (var split in Choose(picked, i + 1, left - 1)) yield return split;
                picked[i] = false;
            }
        }
    }

    private static double Binomial(int n, int k)
    {
        var result = 1.0;
        for (var i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }

    private static void Check(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        if (first.Count == 0 || second.Count == 0) throw new ArgumentException("Each width needs at least one training run to compare.");
        if (first.Count + second.Count > MaxRuns) throw new ArgumentException($"{first.Count + second.Count} training runs: the exact test enumerates every split and takes at most {MaxRuns}.");
        if (first.Concat(second).Any(d => !double.IsFinite(d))) throw new ArgumentException("An EPIC distance is not a finite number; the comparison needs every run's distance.");
    }
}
