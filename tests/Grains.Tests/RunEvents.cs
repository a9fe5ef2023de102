using System.Globalization;
using System.Text.RegularExpressions;
using VlmRm.Rl.Checkpoints;

namespace VlmRm.Grains.Tests;

/// <summary>What a run's event log (LearnerGrain) says about its activations and where each one continued from.</summary>
public static partial class RunEvents
{
    /// <summary>The number of the run's latest activation in its events (the count is kept in its grain state).</summary>
    public static int LastActivation(IReadOnlyList<string> log) =>
        log.Select(l => Activation().Match(l)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();

    /// <summary>The step of the newest checkpoint <paramref name="store"/> lists for the run, 0 when none: what a resume after a kill may not go behind.</summary>
    public static async Task<long> NewestCheckpointAsync(ICheckpointStore store, string runId, CancellationToken cancellationToken) =>
        (await store.ListAsync(runId, cancellationToken)).Select(c => c.Timesteps).DefaultIfEmpty(0).Max();

    /// <summary>Where each activation continued from, in order: a resume's step, or 0 for a start with no checkpoint.</summary>
    public static List<long> Starts(IReadOnlyList<string> log) => log.Select(StartOf).OfType<long>().ToList();

    /// <summary>
    /// Where the first activation numbered above <paramref name="seen"/> continued from; null while its events do not
    /// say yet. Only the run's own words count (a resume, or <see cref="LearnerGrain.FreshStart"/>): other lines between
    /// an activation and its resume (an environment re-created, a store waited for) are not a start from 0.
    /// </summary>
    public static long? StartAfter(IReadOnlyList<string> log, int seen)
    {
        var activation = log.Select((line, index) => (Match: Activation().Match(line), index))
            .FirstOrDefault(l => l.Match.Success && int.Parse(l.Match.Groups[1].Value, CultureInfo.InvariantCulture) > seen);
        return activation.Match is { Success: true } ? log.Skip(activation.index + 1).Select(StartOf).FirstOrDefault(s => s is not null) : null;
    }

    private static long? StartOf(string line)
    {
        if (line.EndsWith(LearnerGrain.FreshStart, StringComparison.Ordinal)) return 0;
        var resume = ResumedAt().Match(line);
        return resume.Success ? long.Parse(resume.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"^\S+ \S+ activation (\d+) on ")]
    private static partial Regex Activation();

    [GeneratedRegex(@"resumed from the checkpoint at step ([\d,]+)")]
    private static partial Regex ResumedAt();
}
