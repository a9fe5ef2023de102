namespace VlmRm.Abstractions;

/// <summary>Owns one run of Algorithm 1 (key: run id); checkpoints, and resumes from its latest checkpoint on activation.</summary>
public interface ILearnerGrain : IGrainWithStringKey
{
    Task StartAsync(RunRequest request);

    Task<RunStatus> GetStatusAsync();

    Task CancelAsync();

    /// <summary>The run's events, oldest first: started, resumed (where, from which step), checkpoint failures, progress, finished.</summary>
    Task<IReadOnlyList<string>> GetLogAsync();
}
