using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Envs.Mujoco;
using VlmRm.Evaluation;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.ClipTraining;

/// <summary>How well a model's reward from the paper's prompts separates goal states at one α.</summary>
public sealed record PromptScore(string EnvId, float Alpha, double Epic, double RankingAccuracy, double GoalShare);

/// <summary>
/// The paper's prompts (Table 3), never seen in training, scored against ground-truth goal predicates: on uniformly
/// drawn states of the classic-control tasks (appendix A's distribution), and for the Humanoid on 400 states half posed
/// and half from a random policy (<see cref="HumanoidStates"/>), each of its eight tasks labelled by its pose
/// predicate. Figures: EPIC distance (Lemma 1, lower is better) and ranking accuracy, the probability that a random
/// goal state gets a higher reward than a random non-goal state (<see cref="GoalRanking"/>). A Humanoid task is
/// reported as "Humanoid/kneeling".
/// </summary>
public static class PaperPromptEvaluation
{
    public static readonly float[] Alphas = [0f, 0.5f, 1f];
    public const int HumanoidStateCount = 400;

    /// <summary>The environment a reported task is measured in: "Humanoid" for "Humanoid/kneeling", else the task itself.</summary>
    public static string EnvironmentOf(string task) => task.Split('/')[0];

    public static IReadOnlyList<PromptScore> Measure(OnnxClipModel model, IEnumerable<string> envIds, int states = 600, int seed = 12345, string? assetsDirectory = null)
    {
        var scores = new List<PromptScore>();
        var size = model.Manifest.ImageSize;
        foreach (var envId in envIds)
        {
            if (ClassicControlStates.Supports(envId))
            {
                using var sampler = new ClassicControlStates(envId, new EnvOptions { RenderWidth = size, RenderHeight = size });
                var (values, isGoal) = sampler.SampleStates(states, new Rng((ulong)seed));
                Score(envId, TaskPrompts.For(envId)!, sampler.EmbedStates(values, model), isGoal);
            }
            else if (envId == "Humanoid")
            {
                using var sampler = new HumanoidStates(size, assetsDirectory);
                var drawn = sampler.Sample(HumanoidStateCount, seed).ToList();
                var embeddings = new float[drawn.Count * model.EmbedDim];
                model.EmbedImages(HumanoidStates.Frames(drawn), drawn.Count, size, size, embeddings);
                foreach (var task in Enum.GetValues<HumanoidPose>())
                {
                    var isGoal = drawn.Select(s => HumanoidPoses.Holds(task, s.Body)).ToArray();
                    if (isGoal.All(g => g) || !isGoal.Any(g => g)) continue; // EPIC to the labels needs both kinds of state
                    Score($"Humanoid/{HumanoidSkeleton.ConfigName(task)}", TaskPrompts.For(task), embeddings, isGoal);
                }
            }
        }
        return scores;

        void Score(string task, RewardPrompts prompts, float[] embeddings, bool[] isGoal)
        {
            var rewardModel = new ClipRewardModel(model, prompts, 0);
            var rewards = new float[isGoal.Length];
            foreach (var alpha in Alphas)
            {
                rewardModel.WithAlpha(alpha).Score(embeddings, rewards);
                scores.Add(new PromptScore(task, alpha, EpicDistance.ToGoalLabels(rewards, isGoal), GoalRanking.Accuracy(rewards, isGoal), isGoal.Count(g => g) / (double)isGoal.Length));
            }
        }
    }
}
