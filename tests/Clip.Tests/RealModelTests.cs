using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Envs.ClassicControl;
using VlmRm.TestSupport;

namespace VlmRm.Clip.Tests;

/// <summary>
/// Runs on every real CLIP model folder under ../shared/models (see its README for the layout); without
/// one these tests are reported as skipped with the reason.
/// </summary>
public class RealModelTests
{
    public static TheoryData<string> RealModels()
    {
        var data = new TheoryData<string>();
        var models = TestPaths.SharedDirectory is { } shared ? Path.Combine(shared, "models") : null;
        if (models is not null && Directory.Exists(models))
        {
            foreach (var name in new ClipModelRegistry(new ClipRuntimeOptions { ModelsDirectory = models }).Available()) data.Add(name);
        }
        if (data.Count == 0) data.Add("(none)");
        return data;
    }

    private static OnnxClipModel LoadOrSkip(string name)
    {
        Assert.SkipWhen(name == "(none)", "no real CLIP model folder (with model.json) under ../shared/models on this machine; no real weights can be had here");
        var shared = TestPaths.SharedDirectory!;
        return OnnxClipModel.Load(name, new ClipRuntimeOptions
        {
            ModelsDirectory = Path.Combine(shared, "models"),
            TokenizerDirectory = Path.Combine(shared, "models", "clip-tokenizer"),
            ExecutionProvider = ExecutionProviderChoice.Cpu,
        });
    }

    [Theory]
    [MemberData(nameof(RealModels))]
    public void Reference_embeddings_match_within_1e3_cosine(string name)
    {
        using var model = LoadOrSkip(name);
        Assert.SkipWhen(model.Folder.ReferencePath is null, $"{name} has no reference.json to verify against");
        // Loading already verified every reference input; check again explicitly so a regression shows here.
        ReferenceEmbeddings.Load(model.Folder.ReferencePath!).Verify(model);
    }

    [Theory]
    [MemberData(nameof(RealModels))]
    public void Upright_pole_scores_higher_than_a_fallen_pole_for_the_papers_cartpole_prompt(string name)
    {
        using var model = LoadOrSkip(name);
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
