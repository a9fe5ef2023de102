namespace VlmRm.Evaluation.Epic;

/// <summary>How often a reward ranks goal states above non-goal states: EPIC's companion figure, easier to read.</summary>
public static class GoalRanking
{
    /// <summary>P(reward of a random goal state &gt; reward of a random non-goal state), ties counted half (ROC AUC; 0.5 is chance); NaN without both classes.</summary>
    public static double Accuracy(ReadOnlySpan<float> rewards, ReadOnlySpan<bool> isGoal)
    {
        var goals = new List<float>();
        var others = new List<float>();
        for (var i = 0; i < rewards.Length; i++) (isGoal[i] ? goals : others).Add(rewards[i]);
        if (goals.Count == 0 || others.Count == 0) return double.NaN;
        double wins = 0;
        foreach (var g in goals)
        {
            foreach (var o in others) wins += g > o ? 1 : g == o ? 0.5 : 0;
        }
        return wins / ((double)goals.Count * others.Count);
    }

    /// <summary>The mean reward of the goal states (<paramref name="goal"/> true) or of the others; NaN when there are none.</summary>
    public static double MeanReward(ReadOnlySpan<float> rewards, ReadOnlySpan<bool> isGoal, bool goal)
    {
        double sum = 0;
        var count = 0;
        for (var i = 0; i < rewards.Length; i++)
        {
            if (isGoal[i] != goal) continue;
            sum += rewards[i];
            count++;
        }
        return count == 0 ? double.NaN : sum / count;
    }
}
