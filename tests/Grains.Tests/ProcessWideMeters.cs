namespace VlmRm.Grains.Tests;

/// <summary>
/// Tests that count the VlmRm meter's measurements (MeterTotals listens to the whole process): run one at a time, after
/// the parallel ones, so that no other test's silos label frames into their counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeters
{
    public const string Name = "process-wide meters";
}
