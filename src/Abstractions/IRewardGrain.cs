namespace VlmRm.Abstractions;

/// <summary>
/// Labels transitions (Algorithm 1's labelling step) for one reward specification, batching requests
/// from many learners on its silo into one model call (key: <see cref="RewardSpec.Key"/>).
/// </summary>
public interface IRewardGrain : IGrainWithStringKey
{
    Task<RewardResponse> LabelAsync(RewardSpec spec, RewardRequest request);
}
