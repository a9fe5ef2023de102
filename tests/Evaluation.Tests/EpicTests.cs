using VlmRm.Envs;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Tests;

public sealed class EpicTests
{
    [Fact]
    public void Equation_4_maps_correlation_to_distance()
    {
        Assert.Equal(0, EpicDistance.FromCorrelation(1), 12);
        Assert.Equal(1, EpicDistance.FromCorrelation(-1), 12);
        Assert.Equal(1 / Math.Sqrt(2), EpicDistance.FromCorrelation(0), 12);
    }

    [Fact]
    public void Pearson_matches_a_hand_computed_value()
    {
        // x = 1..5, y = (2, 4, 5, 4, 5): Σdx·dy = 6, Σdx² = 10, Σdy² = 6, so ρ = 6/√60.
        Assert.Equal(6 / Math.Sqrt(60), EpicDistance.Pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 12);
    }

    [Fact]
    public void Lemma_1_is_zero_for_a_perfect_separator_and_one_for_its_opposite()
    {
        bool[] labels = [true, false, false, true, false, false];
        float[] separating = [0.31f, 0.22f, 0.2f, 0.3f, 0.21f, 0.2f];
        Assert.True(EpicDistance.ToGoalLabels(separating, labels) < 0.1);
        float[] perfect = labels.Select(l => l ? 0.9f : 0.1f).ToArray();
        Assert.Equal(0, EpicDistance.ToGoalLabels(perfect, labels), 6);
        Assert.Equal(1, EpicDistance.ToGoalLabels(perfect.Select(r => -r).ToArray(), labels), 6);
    }

    [Fact]
    public void Lemma_1_refuses_sets_it_cannot_measure()
    {
        var single = Assert.Throws<ArgumentException>(() => EpicDistance.ToGoalLabels([0.1f, 0.2f], [true, true]));
        Assert.Contains("goal and non-goal", single.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EpicDistance.ToGoalLabels([0.1f], [true, false]));
        var nan = Assert.Throws<ArgumentException>(() => EpicDistance.ToGoalLabels([0.1f, float.NaN], [true, false]));
        Assert.Contains("NaN", nan.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EpicDistance.ToGoalLabels([0.3f, 0.3f], [true, false]));
    }

    [Theory]
    [InlineData("CartPole")]
    [InlineData("MountainCar")]
    public void General_epic_is_invariant_to_potential_shaping_and_positive_scaling(string env)
    {
        using var states = new ClassicControlStates(env);
        var sample = states.SampleTransitions(400, 64, new Rng(1));
        var truth = states.GroundTruthReward();
        const double gamma = 0.9;
        double Potential(ReadOnlySpan<float> s) => 3 * s[0] - s[^1] * s[0] + Math.Sin(7 * s[^1]);
        TransitionReward shaped = (s, a, next, rewards) =>
        {
            truth(s, a, next, rewards);
            var size = states.StateSize;
            for (var i = 0; i < rewards.Length; i++)
            {
                rewards[i] = 2.5 * rewards[i] + gamma * Potential(next.Slice(i * size, size)) - Potential(s.Slice(i * size, size)) + 4;
            }
        };
        Assert.True(EpicDistance.Between(truth, shaped, sample, gamma) < 1e-6);
        // Without canonicalization the shaping term would decorrelate them: the raw rewards differ a lot.
        var raw = new double[sample.Transitions];
        var shapedRaw = new double[sample.Transitions];
        truth(sample.States, sample.Actions, sample.NextStates, raw);
        shaped(sample.States, sample.Actions, sample.NextStates, shapedRaw);
        Assert.True(EpicDistance.FromCorrelation(EpicDistance.Pearson(raw, shapedRaw)) > 0.1);
    }

    [Fact]
    public void General_epic_of_opposite_rewards_is_one_and_of_unrelated_ones_near_the_middle()
    {
        using var states = new ClassicControlStates("CartPole");
        var sample = states.SampleTransitions(2000, 64, new Rng(2));
        var truth = states.GroundTruthReward();
        TransitionReward opposite = (s, a, n, r) =>
        {
            truth(s, a, n, r);
            for (var i = 0; i < r.Length; i++) r[i] = -r[i];
        };
        Assert.Equal(1, EpicDistance.Between(truth, opposite, sample, 0.99), 6);
        var noise = new Rng(3);
        TransitionReward unrelated = (_, _, _, r) =>
        {
            for (var i = 0; i < r.Length; i++) r[i] = noise.NextDouble();
        };
        var distance = EpicDistance.Between(truth, unrelated, sample, 0.99);
        Assert.InRange(distance, 0.6, 0.8);
    }

    [Fact]
    public void For_rewards_of_the_reached_state_general_epic_reduces_to_lemma_1()
    {
        using var states = new ClassicControlStates("CartPole");
        var sample = states.SampleTransitions(500, 32, new Rng(4));
        // A smooth "how upright" score of s' as a stand-in for a CLIP reward.
        var calls = 0;
        var score = EpicDistance.OfNextState((next, rewards) =>
        {
            calls++;
            for (var i = 0; i < rewards.Length; i++) rewards[i] = Math.Cos(next[i * 4 + 2]) - 0.05 * Math.Abs(next[i * 4]);
        });
        var indicator = EpicDistance.OfNextState((next, rewards) =>
        {
            for (var i = 0; i < rewards.Length; i++) rewards[i] = states.IsGoal(next.Slice(i * 4, 4)) ? 1 : 0;
        });
        var general = EpicDistance.Between(indicator, score, sample, 0.99);
        var rewards = new float[sample.Transitions];
        var labels = new bool[sample.Transitions];
        for (var i = 0; i < rewards.Length; i++)
        {
            var next = sample.NextStates.AsSpan(i * 4, 4);
            rewards[i] = (float)(Math.Cos(next[2]) - 0.05 * Math.Abs(next[0]));
            labels[i] = states.IsGoal(next);
        }
        Assert.Equal(EpicDistance.ToGoalLabels(rewards, labels), general, 4);
        Assert.True(calls <= 4, $"the canonical batch was scored {calls} times; the memo should reuse it");
    }

    [Fact]
    public void Bad_samples_and_bad_rewards_are_named()
    {
        using var states = new ClassicControlStates("CartPole");
        var sample = states.SampleTransitions(10, 4, new Rng(5));
        var broken = sample with { Actions = new float[3] };
        Assert.Contains("disagree", Assert.Throws<ArgumentException>(() => EpicDistance.Between(states.GroundTruthReward(), states.GroundTruthReward(), broken, 0.9)).Message, StringComparison.Ordinal);
        TransitionReward nan = (_, _, _, r) => r.Fill(double.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => EpicDistance.Between(states.GroundTruthReward(), nan, sample, 0.9)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => EpicDistance.Between(states.GroundTruthReward(), states.GroundTruthReward(), sample, 1.5));
        Assert.Contains("Humanoid", Assert.Throws<ArgumentException>(() => new ClassicControlStates("Humanoid")).Message, StringComparison.Ordinal);
    }
}
