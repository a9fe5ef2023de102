using VlmRm.Clip.Reward;

namespace VlmRm.Clip.Tests;

public class ClipRewardTests
{
    [Fact]
    public void Alpha_zero_is_the_cosine_similarity_of_eq_2()
    {
        float[] goal = [1, 2, 3, 4], baseline = [4, 3, 2, 1], state = [0.5f, -1, 2, 0.25f];
        var reward = new ClipReward(goal, baseline, 0);
        Assert.Equal(ClipReward.Cosine(goal, state), reward.Score(state), 6);
    }

    [Fact]
    public void Matches_definition_1_computed_by_hand_in_3d()
    {
        // g = e1, b = e2, so L is the line through (0,1,0) and (1,0,0), u = (1,-1,0)/√2.
        float[] g = [1, 0, 0], b = [0, 1, 0], s = [0, 0, 2]; // normalized s = e3
        // d = s − g = (−1, 0, 1); u·d = −1/√2; proj_L s = g + (u·d)u = (1,0,0) + (−½, ½, 0) = (½, ½, 0).
        foreach (var alpha in new[] { 0f, 0.25f, 0.5f, 1f })
        {
            double[] v = [alpha * 0.5 + (1 - alpha) * 0 - 1, alpha * 0.5, (1 - alpha) * 1];
            var expected = 1 - 0.5 * v.Sum(x => x * x);
            Assert.Equal(expected, new ClipReward(g, b, alpha).Score(s), 6);
        }
    }

    [Fact]
    public void Alpha_one_ignores_directions_orthogonal_to_goal_minus_baseline()
    {
        float[] g = [1, 0, 0], b = [0, 1, 0];
        var reward = new ClipReward(g, b, 1);
        // Two states with the same component along g − b and different orthogonal parts score alike.
        float[] s1 = [0.6f, 0.0f, 0.8f], s2 = [0.6f, 0.0f, -0.8f];
        Assert.Equal(reward.Score(s1), reward.Score(s2), 6);
        Assert.Equal(1f, reward.Score(g), 6);
        Assert.True(reward.Score(g) > reward.Score(b));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    [InlineData(1f)]
    public void Stored_fp16_rows_score_as_each_row_does(float alpha)
    {
        const int width = 37, count = 50; // not a multiple of any vector width: the tail is scored too
        var random = new Random(3);
        float[] Draw(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        var reward = new ClipReward(Draw(width), Draw(width), alpha);
        var rows = Draw(count * width).Select(v => (Half)v).ToArray();
        var scored = new float[count];
        reward.ScoreRows(rows, scored);
        for (var i = 0; i < count; i++)
        {
            var row = rows.AsSpan(i * width, width).ToArray().Select(v => (float)v).ToArray();
            Assert.Equal(reward.Score(row), scored[i], 1e-5f);
        }
        Assert.Throws<ArgumentException>(() => reward.ScoreRows(new Half[width], new float[2]));
    }

    [Fact]
    public void Several_prompts_average_their_normalized_embeddings()
    {
        float[] two = [3, 0, 0, 4];
        Assert.Equal([0.5f, 0.5f], ClipReward.AverageOfNormalized(two, 2));
    }

    [Fact]
    public void Bad_inputs_are_clear_errors()
    {
        Assert.Contains("[0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() => new ClipReward([1, 0], [0, 1], 1.5f)).Message);
        Assert.Contains("same direction", Assert.Throws<ArgumentException>(() => new ClipReward([1, 0], [2, 0], 0.5f)).Message);
        var reward = new ClipReward([1, 0], [0, 1], 0.5f);
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => reward.Score([float.NaN, 1])).Message);
        Assert.Contains("3 values", Assert.Throws<ArgumentException>(() => reward.Score([1, 2, 3])).Message);
    }
}
