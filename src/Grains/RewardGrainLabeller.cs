using VlmRm.Abstractions;
using VlmRm.Rl.Labelling;

namespace VlmRm.Grains;

/// <summary>The learner's labeller in the cluster: Algorithm 1's labelling call goes to the reward grain for the run's reward spec.</summary>
public sealed class RewardGrainLabeller(IRewardGrain grain, RewardSpec spec, FrameSize? frames) : IRewardLabeller
{
    public string Name => $"grain:{spec.Key}";
    public FrameSize? Frames => frames;

    public async ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, CancellationToken cancellationToken)
    {
        var request = new RewardRequest(
            batch.Count,
            batch.EnvironmentRewards[..batch.Count].ToArray(),
            batch.Frames.ToArray(),
            batch.FrameSize?.Width ?? 0,
            batch.FrameSize?.Height ?? 0);
        var response = await grain.LabelAsync(spec, request);
        if (response.Rewards.Length != batch.Count)
        {
            throw new InvalidDataException($"Reward grain {spec.Key} returned {response.Rewards.Length} rewards for {batch.Count} transitions.");
        }
        response.Rewards.CopyTo(rewards.Span);
    }
}
