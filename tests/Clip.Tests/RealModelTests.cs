using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs.ClassicControl;
using VlmRm.TestSupport;

namespace VlmRm.Clip.Tests;

/// <summary>
/// Runs on every model VlmRm ships (models/ in the repository: its own trained CLIP, a learned model of these
/// environments) and on every real CLIP model folder under ../shared/models (see its README for the layout).
/// </summary>
public class RealModelTests
{
    public static TheoryData<string, string> RealModels()
    {
        var data = new TheoryData<string, string>();
        var folders = new List<string> { ShippedClip.ModelsDirectory };
        if (TestPaths.SharedDirectory is { } shared) folders.Add(Path.Combine(shared, "models"));
        foreach (var folder in folders.Where(Directory.Exists))
        {
            foreach (var name in new ClipModelRegistry(new ClipRuntimeOptions { ModelsDirectory = folder }).Available()) data.Add(folder, name);
        }
        return data;
    }

    private static OnnxClipModel Load(string folder, string name) =>
        OnnxClipModel.Load(name, new ClipRuntimeOptions { ModelsDirectory = folder, ExecutionProvider = ExecutionProviderChoice.Cpu });

    [Fact]
    public void The_project_ships_at_least_one_model()
    {
        Assert.NotEmpty(new ClipModelRegistry(new ClipRuntimeOptions { ModelsDirectory = ShippedClip.ModelsDirectory }).Available());
    }

    [Theory]
    [MemberData(nameof(RealModels))]
    public void Reference_embeddings_match_within_1e3_cosine(string folder, string name)
    {
        using var model = Load(folder, name);
        Assert.SkipWhen(model.Folder.ReferencePath is null, $"{name} has no reference.json to verify against");
        // Loading already verified every reference input; check again explicitly so a regression shows here.
        ReferenceEmbeddings.Load(model.Folder.ReferencePath!).Verify(model);
    }

    [Theory]
    [MemberData(nameof(RealModels))]
    public void Upright_pole_scores_higher_than_a_fallen_pole_for_the_papers_cartpole_prompt(string folder, string name)
    {
        using var model = Load(folder, name);
        var reward = new ClipRewardModel(model, new RewardPrompts("pole vertically upright on top of the cart", "pole and cart"), alpha: 0);
        var renderer = new CartPoleRenderer(600, 400);
        var frames = new byte[2 * 600 * 400 * 3];
        renderer.Render(new CartPoleState(0, 0, 0, 0), frames.AsSpan(0, 600 * 400 * 3));
        renderer.Render(new CartPoleState(0, 0, 1.4, 0), frames.AsSpan(600 * 400 * 3));
        var rewards = new float[2];
        reward.Label(frames, 400, 600, rewards, new float[2 * model.EmbedDim]);
        Assert.True(rewards[0] > rewards[1], $"upright {rewards[0]:F4} vs fallen {rewards[1]:F4}");
    }
}
