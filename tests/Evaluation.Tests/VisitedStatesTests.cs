using VlmRm.Clip.Export;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.Rl;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using VlmRm.Rl.Tests;
using VlmRm.TestSupport;

namespace VlmRm.Evaluation.Tests;

/// <summary>Prompt screening on the states a run visited (evaluate screen --run).</summary>
public sealed class VisitedStatesTests
{
    private const string Model = "Synthetic/visited";

    private static RunConfig Config(bool keep) => new()
    {
        Env = "CartPole", Algorithm = AlgorithmKind.Dqn, TotalTimesteps = 400, NumEnvs = 2, Seed = 2,
        Dqn = new DqnOptions { LearningStarts = 50, TrainFreq = 8, GradientSteps = 1, BatchSize = 8, NetArch = [16] },
        Reward = new RewardSection
        {
            Labeller = LabellerKind.Clip, Model = Model, Goal = ["pole vertically upright on top of the cart"], Baseline = ["pole and cart"], BatchSize = 50,
            FrameWidth = 32, FrameHeight = 32, KeepEmbeddings = keep,
        },
    };

    private static readonly SyntheticModels Models = new((Model, new ClipArchitecture()));

    [Fact]
    public async Task A_runs_visited_states_are_labelled_by_the_tasks_predicate_and_ranked_without_the_image_tower()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await RecordedRuns.RecordAsync("visited", Config(keep: true), Models.Options, ct);

        var visited = await VisitedStates.LoadAsync(store, "visited", maxStates: 100, ct);
        Assert.Equal((100, 16, 400L), (visited.Embeddings.Count, visited.Embeddings.EmbedDim, visited.Step));
        Assert.Equal("predicate:pole-upright", visited.Labeller);
        // Random CartPole policies fall within a few dozen steps: both upright and fallen poles are visited.
        Assert.Contains(true, visited.Labels);
        Assert.Contains(false, visited.Labels);

        using var text = Models.Load(Model);
        var ranking = PromptScreening.Rank(text, visited.Embeddings, visited.Labels, ["pole vertically upright on top of the cart", "a kneeling humanoid robot"], ["pole and cart"], [0f, 1f]);
        Assert.Equal(4, ranking.Count);
        Assert.All(ranking, r => Assert.InRange(r.Epic, 0, 1));
    }

    [Fact]
    public async Task A_run_without_embeddings_is_refused_with_how_to_record_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await RecordedRuns.RecordAsync("plain", Config(keep: false) with { TotalTimesteps = 60 }, Models.Options, ct);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => VisitedStates.LoadAsync(store, "plain", 100, ct));
        Assert.Contains("Run plain was recorded without image embeddings", error.Message);
        Assert.Contains("reward.keep_embeddings: true", error.Message);
    }
}
