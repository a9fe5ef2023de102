namespace VlmRm.Abstractions;

/// <summary>
/// An EPIC evaluation job (key: job name): the EPIC distance (paper appendix A, Lemma 1) of CLIP reward models
/// to a labelled set's goal labels, for every model × α. It runs off the grain's scheduler, its state and
/// results are persisted, and a job whose silo died is started again on the next call.
/// </summary>
public interface IEvaluatorGrain : IGrainWithStringKey
{
    /// <summary>Starts the job unless this name already holds one (then it returns that job's status).</summary>
    Task<EpicJobStatus> SubmitAsync(EpicJob job);

    Task<EpicJobStatus> GetStatusAsync();
}

/// <param name="LabelledSet">Folder of the labelled set, as the silos see it.</param>
/// <param name="Goal">Goal prompts; empty uses the task's prompts (TaskPrompts).</param>
[GenerateSerializer, Immutable]
public sealed record EpicJob(
    [property: Id(0)] string LabelledSet,
    [property: Id(1)] string[] Models,
    [property: Id(2)] float[] Alphas,
    [property: Id(3)] string[] Goal,
    [property: Id(4)] string[] Baseline);

[GenerateSerializer, Immutable]
public sealed record EpicResult(
    [property: Id(0)] string Model,
    [property: Id(1)] float Alpha,
    [property: Id(2)] double Epic,
    [property: Id(3)] double MeanGoalReward,
    [property: Id(4)] double MeanNonGoalReward,
    [property: Id(5)] int States,
    [property: Id(6)] int GoalStates);

[GenerateSerializer, Immutable]
public sealed record EpicJobStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] RunState State,
    [property: Id(2)] IReadOnlyList<EpicResult> Results,
    [property: Id(3)] int Pairs,
    [property: Id(4)] string? Error,
    [property: Id(5)] string? Silo);
