namespace VlmRm.Abstractions;

/// <summary>
/// Labels transitions (Algorithm 1's labelling step) for one reward specification (key:
/// <see cref="RewardSpec.GrainKey"/>: the silo it should run on, then the spec). It is placed on that silo
/// when the silo may host reward grains (a GPU silo, or any silo when the cluster has no GPU silo), else
/// on a GPU silo. Requests from many callers are merged into one model call per silo.
/// </summary>
public interface IRewardGrain : IGrainWithStringKey
{
    /// <remarks>A batch of B frames on CPU takes minutes for the large models: far past Orleans' default 30 s response timeout.</remarks>
    [ResponseTimeout("00:30:00")]
    Task<RewardResponse> LabelAsync(RewardSpec spec, RewardRequest request);

    /// <summary>The spec's goal and baseline embeddings (each the average of its prompts' normalized embeddings), for re-rewarding stored image embeddings.</summary>
    Task<PromptEmbeddings> EmbedPromptsAsync(RewardSpec spec);
}
