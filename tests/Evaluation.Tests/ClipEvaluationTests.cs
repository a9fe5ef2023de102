using VlmRm.Clip.Export;
using VlmRm.Clip.Reward;
using VlmRm.Clip.Synthetic;
using VlmRm.Envs;
using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.Figures;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.TestSupport;

namespace VlmRm.Evaluation.Tests;

public sealed class ClipEvaluationTests
{
    private const string Small = "Synthetic-S/test";
    private const string Large = "Synthetic-L/test";
    private static readonly float[] Alphas = [0f, 0.5f, 1f];

    [Fact]
    public void Image_embeddings_are_computed_once_per_set_and_model_and_recomputed_when_the_set_changes()
    {
        var models = new SyntheticModels((Small, new ClipArchitecture()));
        using var model = models.Load(Small);
        var set = SetGenerators.UniformStates("CartPole", 12, seed: 2, Path.Combine(Directory.CreateTempSubdirectory().FullName, "set"), frameSize: 48);

        var first = EmbeddingCache.GetOrCompute(set, model);
        Assert.False(first.FromCache);
        var direct = new float[model.EmbedDim];
        model.EmbedImages(set.ReadFrame(5), 1, 48, 48, direct);
        Assert.Equal(direct, first.Of(5).ToArray());

        var second = EmbeddingCache.GetOrCompute(set, model);
        Assert.True(second.FromCache);
        Assert.Equal(first.Values, second.Values);

        // Another frame under the same name: the content hash changes, the cache is not trusted.
        Assert.NotEqual(File.ReadAllBytes(set.FramePath(0)), File.ReadAllBytes(set.FramePath(5)));
        File.Copy(set.FramePath(0), set.FramePath(5), overwrite: true);
        var third = EmbeddingCache.GetOrCompute(set, model);
        Assert.False(third.FromCache);
        Assert.Equal(third.Of(0).ToArray(), third.Of(5).ToArray());

        // A torn cache file is recomputed, never read.
        var path = EmbeddingCache.PathFor(set, model);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        Assert.False(EmbeddingCache.GetOrCompute(set, model).FromCache);
    }

    [Fact]
    public void Screening_ranks_every_candidate_by_epic_and_alpha_zero_is_the_cosine_reward()
    {
        var models = new SyntheticModels((Small, new ClipArchitecture()));
        using var model = models.Load(Small);
        var set = SetGenerators.UniformStates("CartPole", 40, seed: 4, Path.Combine(Directory.CreateTempSubdirectory().FullName, "set"), frameSize: 32);
        var embeddings = EmbeddingCache.GetOrCompute(set, model);
        string[] goals = ["pole vertically upright on top of the cart", "a balanced pole"];
        string[] baselines = ["pole and cart"];
        float[] alphas = [0, 0.5f, 1];
        var ranking = PromptScreening.Rank(model, embeddings, set.Labels(), goals, baselines, alphas);

        Assert.Equal(6, ranking.Count);
        Assert.True(ranking.Zip(ranking.Skip(1)).All(p => p.First.Epic <= p.Second.Epic));
        var text = model.EmbedTexts([goals[0]]);
        var alphaZero = ranking.Single(r => r.Candidate.Goal == goals[0] && r.Candidate.Alpha == 0);
        var cosines = Enumerable.Range(0, set.Count).Select(i => ClipReward.Cosine(text, embeddings.Of(i))).ToArray();
        Assert.Equal(EpicDistance.ToGoalLabels(cosines, set.Labels()), alphaZero.Epic, 5);
    }

    [Fact]
    public void The_papers_figures_are_written_as_png_with_their_numbers_as_csv()
    {
        var models = new SyntheticModels((Small, new ClipArchitecture()), (Large, new ClipArchitecture { VisionWidth = 64, TextWidth = 64, VisionLayers = 3 }));
        var output = TestPaths.ArtifactsDirectory("evaluation");
        var set = SetGenerators.UniformStates("CartPole", 30, seed: 5, Path.Combine(Directory.CreateTempSubdirectory().FullName, "set"), frameSize: 32);
        var prompts = TaskPrompts.For("CartPole")!;

        using var states = new ClassicControlStates("CartPole", new EnvOptions { RenderWidth = 64, RenderHeight = 64 });
        var grid = states.LandscapeStates(19);
        Assert.Equal(-90, states.LandscapeCoordinate(grid.AsSpan(0, 4)), 3);
        Assert.Equal(90, states.LandscapeCoordinate(grid.AsSpan(18 * 4, 4)), 3);
        var points = new List<SizePoint>();
        foreach (var name in new[] { Small, Large })
        {
            using var model = models.Load(name);
            var rewardModel = new ClipRewardModel(model, prompts, 0);
            var series = Landscapes.Compute(states, rewardModel, Alphas, 19);
            Assert.Equal(grid.Where((_, i) => i % 4 == 2).Select(theta => theta * 180 / Math.PI), series[0].X, (a, b) => Math.Abs(a - b) < 1e-3);
            EvaluationPlots.RewardLandscape(Path.Combine(output, $"landscape-{name.Split('/')[0]}.png"), "CartPole", states.LandscapeAxis, series, states.GoalRegion);

            var setEmbeddings = EmbeddingCache.GetOrCompute(set, model);
            var setRewards = PromptScreening.Rewards(setEmbeddings, rewardModel.Reward);
            points.Add(new SizePoint(name, model.Manifest.Parameters, EpicDistance.ToGoalLabels(setRewards, set.Labels()), "α=0", EpicBootstrap.GoalLabelsInterval(setRewards, set.Labels())));
            EvaluationPlots.GoalHistograms(Path.Combine(output, $"histogram-{name.Split('/')[0]}.png"), name, PromptScreening.Rewards(setEmbeddings, rewardModel.Reward), set.Labels());
        }
        Assert.True(points[1].Parameters > points[0].Parameters);
        var sizePng = Path.Combine(output, "epic-vs-size.png");
        EvaluationPlots.EpicVsModelSize(sizePng, "EPIC vs size", points);
        EvaluationPlots.LearningCurves(Path.Combine(output, "curves.png"), "return", "return", [new Series("run-a", [0, 100, 200], [-200, -50, 180])]);

        string[] figures = ["landscape-Synthetic-S.png", "histogram-Synthetic-L.png", "epic-vs-size.png", "curves.png"];
        foreach (var png in figures)
        {
            var image = Png.Read(Path.Combine(output, png));
            Assert.Equal((EvaluationPlots.Width, EvaluationPlots.Height), (image.Width, image.Height));
            Assert.True(image.Pixels.Distinct().Count() > 3, $"{png} is blank");
        }
        var sizeCsv = File.ReadAllLines(Path.ChangeExtension(sizePng, ".csv"));
        Assert.Equal("model,parameters,variant,epic,epic_low,epic_high", sizeCsv[0]);
        Assert.Equal(3, sizeCsv.Length);
        Assert.StartsWith($"{Small},{points[0].Parameters},α=0,", sizeCsv[1], StringComparison.Ordinal);
        var epicLowHigh = sizeCsv[1].Split(',')[3..].Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(epicLowHigh[1] <= epicLowHigh[0] && epicLowHigh[0] <= epicLowHigh[2], sizeCsv[1]);
        var landscapeCsv = File.ReadAllLines(Path.Combine(output, "landscape-Synthetic-S.csv"));
        Assert.Equal(1 + 3 * 19, landscapeCsv.Length);
        Assert.Equal("series,pole_angle_θ,reward", landscapeCsv[0]); // the axis label without its unit
        var histogramCsv = File.ReadAllLines(Path.Combine(output, "histogram-Synthetic-L.csv"));
        var goalFractions = histogramCsv.Skip(1).Where(l => l.StartsWith("goal,", StringComparison.Ordinal)).Sum(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, goalFractions, 6);
    }
}
