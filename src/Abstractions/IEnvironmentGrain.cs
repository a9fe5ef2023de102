namespace VlmRm.Abstractions;

/// <summary>
/// One run's vectorized environment (key: run id), stepped with the learner's actions. For CLIP rewards it
/// renders every reached state and keeps the frames until the learner asks for labels: the frames then go
/// to a reward grain on this silo when there is one, and only observations, actions and rewards travel back.
/// </summary>
public interface IEnvironmentGrain : IGrainWithStringKey
{
    /// <summary>(Re)builds the copies, reset, and drops any frames still waiting for labels.</summary>
    Task<EnvironmentDescription> CreateAsync(EnvironmentRequest request);

    Task<EnvironmentStep> StepAsync(EnvironmentActions actions);

    /// <summary>
    /// Starts labelling the frames of every step since the last call (Algorithm 1's labelling of B) and returns: the
    /// frames go to the reward grain while the grain steps on (into its second frame buffer when the run's labelling
    /// is overlapped). One batch at a time: its labels are collected before the next starts.
    /// </summary>
    Task StartLabellingAsync(float[] environmentRewards);

    /// <summary>Waits for the batch <see cref="StartLabellingAsync"/> started; one reward per frame.</summary>
    [ResponseTimeout("00:30:00")]
    Task<EnvironmentLabels> CollectLabelsAsync();

    /// <summary>
    /// Labels with <paramref name="spec"/> from the next batch on (reward.schedule), called with no batch being labelled;
    /// returns its prompt embeddings, so the learner re-rewards its replay buffer from the stored image embeddings.
    /// </summary>
    Task<PromptEmbeddings> ChangeRewardAsync(RewardSpec spec);

    Task<byte[]> SaveStateAsync();

    /// <returns>The copies' observations in the restored state.</returns>
    Task<float[]> LoadStateAsync(byte[] state);
}
