using VlmRm.Evaluation.Epic;

namespace VlmRm.Evaluation.Tests;

public sealed class SeedComparisonTests
{
    [Fact]
    public void Three_runs_apart_from_three_give_the_smallest_p_three_seeds_allow()
    {
        double[] tiny = [0.617, 0.630, 0.641], small = [0.586, 0.600, 0.605];
        Assert.Equal(0.1, SeedComparison.TwoSidedP(tiny, small), 12);
        Assert.Equal(0.1, SeedComparison.SmallestP(3, 3), 12);
        Assert.Equal(2 / 70.0, SeedComparison.TwoSidedP([1, 2, 3, 4], [5, 6, 7, 8]), 12);
    }

    [Fact]
    public void Interleaved_runs_give_the_textbook_p()
    {
        // U = 3 for three against three; U's 20 splits count 1,1,2,3,3,3,3,2,1,1 for U = 0..9, and 14 of them lie
        // at least 1.5 from the middle 4.5.
        Assert.Equal(14 / 20.0, SeedComparison.TwoSidedP([1, 3, 5], [2, 4, 6]), 12);
        Assert.Equal(SeedComparison.TwoSidedP([2, 4, 6], [1, 3, 5]), SeedComparison.TwoSidedP([1, 3, 5], [2, 4, 6]), 12);
    }

    [Fact]
    public void Tied_runs_are_not_told_apart() => Assert.Equal(1.0, SeedComparison.TwoSidedP([0.6, 0.6], [0.6, 0.6, 0.6]), 12);

    [Fact]
    public void Widths_that_do_not_matter_pass_at_the_rate_the_level_says()
    {
        var random = new Random(11);
        const int draws = 3000;
        var passed = 0;
        for (var d = 0; d < draws; d++)
        {
            var runs = Enumerable.Range(0, 6).Select(_ => 0.6 + 0.02 * random.NextDouble()).ToArray();
            if (SeedComparison.TwoSidedP(runs[..3], runs[3..]) <= 0.1) passed++;
        }
        // Exactly 2 of 20 splits pass under the null; binomial sd over 3,000 draws is 0.55 %.
        Assert.InRange(passed / (double)draws, 0.083, 0.117);
    }

    [Fact]
    public void A_width_spread_is_its_runs_mean_and_range()
    {
        var spread = SeedSpread.Of([0.586, 0.620, 0.601]);
        Assert.Equal((3, 0.602333, 0.586, 0.620), (spread.Seeds, Math.Round(spread.Mean, 6), spread.Min, spread.Max));
        Assert.Contains("over 3 training runs", spread.ToString());
        Assert.Contains("one training run", SeedSpread.Of([0.5]).ToString());
    }

    [Fact]
    public void Bad_runs_are_refused_by_name()
    {
        Assert.Contains("at least one training run", Assert.Throws<ArgumentException>(() => SeedComparison.TwoSidedP([], [0.5])).Message);
        Assert.Contains("not a finite number", Assert.Throws<ArgumentException>(() => SeedComparison.TwoSidedP([double.NaN], [0.5])).Message);
        Assert.Contains("at most 20", Assert.Throws<ArgumentException>(() => SeedComparison.TwoSidedP(new double[11], new double[10])).Message);
        Assert.Throws<ArgumentException>(() => SeedSpread.Of([]));
    }
}
