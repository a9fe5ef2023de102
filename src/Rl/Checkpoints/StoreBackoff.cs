namespace VlmRm.Rl.Checkpoints;

/// <summary>How long to wait before trying an unreachable checkpoint store again: 1 s, 2 s, 4 s … at most 60 s.</summary>
public static class StoreBackoff
{
    public static TimeSpan After(int failures) => TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures - 1, 6))));
}
