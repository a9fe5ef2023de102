using System.Security.Cryptography;
using System.Text.Json;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Envs.ClassicControl;
using VlmRm.Evaluation;
using VlmRm.TestSupport;

namespace VlmRm.ClipTraining.Tests;

/// <summary>The small CLIP VlmRm ships in models/: its files, and that the paper's prompts mean to it what they mean in the paper.</summary>
public class ShippedModelTests
{
    public const long ShippingLimit = 10_000_000;

    private static string Folder => Path.Combine(ShippedClip.ModelsDirectory, ClipModelRegistry.FolderName(ShippedClip.Name));

    [Fact]
    public void Shipped_files_match_their_manifest_and_fit_the_shipping_limit()
    {
        var manifest = ClipModelManifest.Load(Path.Combine(Folder, ClipModelRegistry.ManifestFile));
        foreach (var tower in new[] { manifest.Image, manifest.Text })
        {
            var bytes = File.ReadAllBytes(Path.Combine(Folder, tower.File));
            Assert.Equal(tower.Bytes, bytes.Length);
            Assert.Equal(tower.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        var total = Directory.GetFiles(Folder).Sum(f => new FileInfo(f).Length);
        Assert.True(total <= ShippingLimit, $"{Folder} holds {total:N0} bytes, over {ShippingLimit:N0}");
        Assert.Contains("NOT zero-shot CLIP", manifest.Description);

        // training.json says how to make it again, with the same recipe.
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "training.json")));
        Assert.StartsWith("./vlmrm clip train", report.RootElement.GetProperty("command").GetString());
        Assert.Equal(manifest.Parameters, report.RootElement.GetProperty("parameters").GetInt64());
        Assert.True(File.ReadAllLines(Path.Combine(Folder, "curve.csv")).Length > 100);
    }

    [Fact]
    public void The_papers_prompts_score_the_goal_above_the_failure()
    {
        using var model = ShippedClip.Load();
        const int size = 224;
        var frames = new byte[2 * size * size * 3];
        var rewards = new float[2];
        var embeddings = new float[2 * model.EmbedDim];

        var cartPole = new ClipRewardModel(model, TaskPrompts.For("CartPole")!, alpha: 0);
        var renderer = new CartPoleRenderer(size, size);
        renderer.Render(new CartPoleState(0, 0, 0, 0), frames.AsSpan(0, size * size * 3));
        renderer.Render(new CartPoleState(0, 0, 1.2, 0), frames.AsSpan(size * size * 3));
        cartPole.Label(frames, size, size, rewards, embeddings);
        Assert.True(rewards[0] > rewards[1], $"CartPole: upright {rewards[0]:F4} vs fallen {rewards[1]:F4}");

        // The flag against the valley and against the far left hill: both ends of the track are in the picture (a model
        // that rewarded "car out of view" would score the left hill, which v1's centre crop hid, highest).
        foreach (var envId in new[] { "MountainCarTextured", "MountainCar" })
        {
            using var env = (MountainCarContinuousEnv)EnvRegistry.Make(envId, new EnvOptions { RenderWidth = size, RenderHeight = size });
            var positions = new[] { 0.5, -0.52, -1.15 };
            var carFrames = new byte[positions.Length * size * size * 3];
            for (var i = 0; i < positions.Length; i++)
            {
                env.State = new MountainCarState(positions[i], 0);
                env.Render(carFrames.AsSpan(i * size * size * 3, size * size * 3));
            }
            var carRewards = new float[positions.Length];
            new ClipRewardModel(model, TaskPrompts.For(envId)!, alpha: 0.5f).Label(carFrames, size, size, carRewards, new float[positions.Length * model.EmbedDim]);
            Assert.True(carRewards[0] > carRewards[1] && carRewards[0] > carRewards[2],
                $"{envId}: at the flag {carRewards[0]:F4} vs in the valley {carRewards[1]:F4} vs on the left hill {carRewards[2]:F4}");
        }
    }

    /// <summary>
    /// The paper's prompts measured again on the shipped model (600 uniform states per environment, as the publisher
    /// measured them; the Humanoid's 400 on the paper's assets, which it was trained with, where they are on the
    /// machine): every figure training.json records is the one the model gives, and the classic goal states rank first.
    /// </summary>
    [Fact]
    public void Scores_on_the_papers_prompts_are_measured_again_and_match_the_recorded_ones()
    {
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "training.json")));
        var assets = TestPaths.PaperAssetsDirectory;
        var recorded = report.RootElement.GetProperty("paper_prompts").EnumerateArray()
            .Where(s => assets is not null || PaperPromptEvaluation.EnvironmentOf(s.GetProperty("env_id").GetString()!) != "Humanoid")
            .ToDictionary(s => (s.GetProperty("env_id").GetString()!, (float)s.GetProperty("alpha").GetDouble()));
        using var model = ShippedClip.Load();
        var envIds = recorded.Keys.Select(k => PaperPromptEvaluation.EnvironmentOf(k.Item1)).Distinct();
        var measured = PaperPromptEvaluation.Measure(model, envIds, assetsDirectory: assets);
        Assert.Equal(recorded.Count, measured.Count);
        var differ = measured.Where(score =>
        {
            var record = recorded[(score.EnvId, score.Alpha)];
            return Math.Abs(record.GetProperty("epic").GetDouble() - score.Epic) > 5e-4 ||
                   Math.Abs(record.GetProperty("ranking_accuracy").GetDouble() - score.RankingAccuracy) > 5e-4 ||
                   Math.Abs(record.GetProperty("goal_share").GetDouble() - score.GoalShare) > 5e-4;
        }).ToList();
        Assert.True(differ.Count == 0, $"training.json's paper_prompts differ from the model's scores; measured now:\n{string.Join("\n", differ)}");
        // Published figures (docs/REPRODUCTION.md): CartPole ≥ 97%, both MountainCars ≥ 97%.
        Assert.All(measured.Where(score => PaperPromptEvaluation.EnvironmentOf(score.EnvId) != "Humanoid"),
            score => Assert.True(score.RankingAccuracy > (score.EnvId == "CartPole" ? 0.95 : 0.85), score.ToString()));
    }

    /// <summary>
    /// The failure the model's frozen zero-DC patch projection exists for (docs/CLIP.md): trained with OpenCLIP's stem,
    /// every CartPole frame embedded alike (cosine 0.9999 between an upright and a fallen pole) and the CartPole prompt
    /// scored at chance.
    /// </summary>
    [Fact]
    public void The_image_tower_tells_an_upright_pole_from_a_fallen_one()
    {
        using var model = ShippedClip.Load();
        const int size = 224;
        var renderer = new CartPoleRenderer(size, size);
        var frames = new byte[2 * size * size * 3];
        renderer.Render(new CartPoleState(0, 0, 0, 0), frames.AsSpan(0, size * size * 3));
        renderer.Render(new CartPoleState(0, 0, 1.4, 0), frames.AsSpan(size * size * 3));
        var embeddings = new float[2 * model.EmbedDim];
        model.EmbedImages(frames, 2, size, size, embeddings);
        var cosine = ClipReward.Cosine(embeddings.AsSpan(0, model.EmbedDim), embeddings.AsSpan(model.EmbedDim));
        Assert.True(cosine < 0.8, $"upright and fallen frames embed alike (cosine {cosine:F4})");
    }
}
