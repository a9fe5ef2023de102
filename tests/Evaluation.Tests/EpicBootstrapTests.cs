using VlmRm.Evaluation.Epic;

namespace VlmRm.Evaluation.Tests;

public sealed class EpicBootstrapTests
{
    /// <summary>
    /// A labelled set drawn from a known population: a tenth of the states are goals, whose rewards are Gaussian 0.1
    /// above the non-goals' with the same spread 0.1 (a model that separates them about as well as the shipped one).
    /// </summary>
    private static (float[] Rewards, bool[] IsGoal) DrawSet(int count, Random random)
    {
        var (rewards, isGoal) = (new float[count], new bool[count]);
        for (var i = 0; i < count; i++)
        {
            isGoal[i] = i % 10 == 0;
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            rewards[i] = (float)((isGoal[i] ? 0.5 : 0.4) + 0.1 * gaussian);
        }
        return (rewards, isGoal);
    }

    [Fact]
    public void The_interval_covers_the_population_distance_about_as_often_as_its_level_says()
    {
        var random = new Random(7);
        var (population, populationGoals) = DrawSet(400_000, random);
        var truth = EpicDistance.ToGoalLabels(population, populationGoals);
        const int sets = 200;
        var covered = 0;
        for (var s = 0; s < sets; s++)
        {
            var (rewards, isGoal) = DrawSet(300, random);
            var interval = EpicBootstrap.GoalLabelsInterval(rewards, isGoal, seed: s);
            Assert.True(interval.Contains(EpicDistance.ToGoalLabels(rewards, isGoal)), $"{interval} leaves out the set's own distance");
            if (interval.Contains(truth)) covered++;
        }
        // 95 % nominal; a percentile bootstrap on 300 states undercovers a little. Binomial sd over 200 sets: 1.5 %.
        Assert.InRange(covered / (double)sets, 0.88, 0.99);
    }

    [Fact]
    public void Sixteen_times_the_states_give_an_interval_about_a_quarter_as_wide()
    {
        var random = new Random(3);
        var (small, smallGoals) = DrawSet(200, random);
        var (large, largeGoals) = DrawSet(3_200, random);
        var narrow = EpicBootstrap.GoalLabelsInterval(large, largeGoals);
        var wide = EpicBootstrap.GoalLabelsInterval(small, smallGoals);
        Assert.InRange((narrow.High - narrow.Low) / (wide.High - wide.Low), 0.15, 0.4);
    }

    [Fact]
    public void A_perfect_separator_has_no_spread_and_the_same_seed_gives_the_same_interval()
    {
        bool[] labels = [true, false, false, true, false, false, false, false];
        var perfect = labels.Select(l => l ? 0.9f : 0.1f).ToArray();
        var interval = EpicBootstrap.GoalLabelsInterval(perfect, labels);
        Assert.Equal(0, interval.Low, 6);
        Assert.Equal(0, interval.High, 6);

        var (rewards, isGoal) = DrawSet(100, new Random(1));
        Assert.Equal(EpicBootstrap.GoalLabelsInterval(rewards, isGoal, seed: 4), EpicBootstrap.GoalLabelsInterval(rewards, isGoal, seed: 4));
        Assert.NotEqual(EpicBootstrap.GoalLabelsInterval(rewards, isGoal, seed: 4), EpicBootstrap.GoalLabelsInterval(rewards, isGoal, seed: 5));
    }

    [Fact]
    public void Two_models_on_the_same_states_are_told_apart_where_their_own_intervals_overlap()
    {
        var (first, isGoal) = DrawSet(300, new Random(11));
        // The second model is the first with goals lifted by a further 0.025: a little better on every resample.
        var second = first.Select((r, i) => isGoal[i] ? r + 0.025f : r).ToArray();
        var (firstAlone, secondAlone) = (EpicBootstrap.GoalLabelsInterval(first, isGoal), EpicBootstrap.GoalLabelsInterval(second, isGoal));
        Assert.True(secondAlone.Low < firstAlone.High && firstAlone.Low < secondAlone.High, $"{firstAlone} and {secondAlone} should overlap");
        var difference = EpicBootstrap.DifferenceInterval(first, second, isGoal);
        Assert.True(difference.High < 0, $"difference {difference}");
        Assert.True(difference.High - difference.Low < (firstAlone.High - firstAlone.Low) / 3, $"difference {difference} against {firstAlone}");
        var none = EpicBootstrap.DifferenceInterval(first, first, isGoal);
        Assert.Equal((0.0, 0.0), (none.Low, none.High));
    }

    [Fact]
    public void Bad_requests_are_refused_with_what_is_wrong()
    {
        var (rewards, isGoal) = DrawSet(100, new Random(1));
        Assert.Contains("level", Assert.Throws<ArgumentOutOfRangeException>(() => EpicBootstrap.GoalLabelsInterval(rewards, isGoal, level: 1)).Message, StringComparison.Ordinal);
        Assert.Contains("100 resamples", Assert.Throws<ArgumentOutOfRangeException>(() => EpicBootstrap.GoalLabelsInterval(rewards, isGoal, resamples: 10)).Message, StringComparison.Ordinal);
        Assert.Contains("goal and non-goal", Assert.Throws<ArgumentException>(() => EpicBootstrap.GoalLabelsInterval([0.1f, 0.2f], [true, true])).Message, StringComparison.Ordinal);
    }
}
