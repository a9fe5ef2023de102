using VlmRm.Clip.Reward;
using VlmRm.Envs.Mujoco;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Epic;

/// <summary>One group of postures: its reward under the task's prompts and how many of its states pass the task's predicate.</summary>
public sealed record ContrastGroup(string Name, bool IsTask, int Count, double MeanReward, double MinReward, double MaxReward, int InPose);

/// <summary>
/// Does a reward model score a task's posture above the postures one feature away from it? EPIC over a labelled set
/// averages over every state; an agent goes to the single best-scored posture it can reach, so one near miss scored
/// above the pose (a lunge above kneeling) is an optimum outside the pose however good the EPIC. Groups, each drawn with
/// the pose generator's noise and rendered from the paper's camera: the task's posture, its
/// <see cref="HumanoidPoseGenerator.NearMisses"/>, the other seven tasks' postures, random postures and random-policy
/// states.
/// </summary>
public static class NearMissContrast
{
    public static IReadOnlyList<ContrastGroup> Measure(HumanoidStates states, HumanoidPose task, ClipRewardModel rewardModel, int perGroup = 30, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perGroup, 1);
        var groups = new List<(string Name, bool IsTask, Func<HumanoidPoseGenerator, Random, HumanoidBodyState> Pose)>
        {
            (HumanoidSkeleton.ConfigName(task), true, (g, r) => g.Pose(r, task)),
        };
        groups.AddRange(HumanoidPoseGenerator.NearMisses.Where(n => n.NearTask == task).Select(n => (n.Name, false, Posed(n.Template))));
        groups.AddRange(Enum.GetValues<HumanoidPose>().Where(t => t != task).Select(t => (HumanoidSkeleton.ConfigName(t), false, Posed(HumanoidPoseGenerator.Templates[t]))));
        groups.Add(("random posture", false, (g, r) => g.Pose(r, (HumanoidPose?)null)));
        groups.Add(("random policy", false, (g, r) => g.RandomPolicyState(r)));

        var embeddings = new float[perGroup * rewardModel.EmbedDim];
        var rewards = new float[perGroup];
        return groups.Select((group, index) =>
        {
            var drawn = states.Draw(perGroup, seed + index, group.Name, group.Pose).ToList();
            rewardModel.Label(HumanoidStates.Frames(drawn), states.FrameSize, states.FrameSize, rewards, embeddings);
            return new ContrastGroup(group.Name, group.IsTask, perGroup, rewards.Average(), rewards.Min(), rewards.Max(),
                drawn.Count(s => HumanoidPoses.Holds(task, s.Body)));
        }).ToList();

        static Func<HumanoidPoseGenerator, Random, HumanoidBodyState> Posed(PoseTemplate template) => (g, r) => g.Pose(r, template);
    }

    /// <summary>The task's mean reward less the best other group's: negative when some posture outside the pose scores higher.</summary>
    public static double Margin(IReadOnlyList<ContrastGroup> groups) =>
        groups.Single(g => g.IsTask).MeanReward - groups.Where(g => !g.IsTask).Max(g => g.MeanReward);
}
