using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.ClipTraining.Captions;
using VlmRm.Evaluation.Language;

namespace VlmRm.ClipTraining.Tests;

/// <summary>An image tower trained into the locked all-MiniLM-L6-v2 space, published and loaded back like any model.</summary>
public class LockedTextTowerTests
{
    [Fact]
    public void An_image_tower_trained_against_the_locked_text_tower_publishes_without_text_weights_and_restores_them_on_load()
    {
        var models = ClipTrainerTests.TempFolder();
        var options = ClipTrainerTests.Tiny(6) with { TextTower = "minilm", BatchSize = 16 };
        using var trainer = new ClipTrainer(options, ClipTrainerTests.TempFolder(), ClipTrainerTests.Tokenizer);
        Assert.False(trainer.Model.HasTextTower);
        Assert.Equal(384, trainer.Architecture.EmbedDim);
        trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(trainer.Curve, p => Assert.True(double.IsFinite(p.Loss)));
        var report = TrainedClipPublisher.Publish(trainer, options, models, "test", 1, ClipTrainerTests.Tokenizer);
        Assert.True(report.OnnxAgreement >= TrainedClipPublisher.RequiredAgreement);

        // What a clone holds: the manifest and the trained image tower; the text tower and vocabulary come back from the package.
        var folder = Path.Combine(models, "Test__tiny");
        File.Delete(Path.Combine(folder, "text.onnx"));
        File.Delete(Path.Combine(folder, "vocab.txt"));
        var manifest = ClipModelManifest.Load(Path.Combine(folder, ClipModelRegistry.ManifestFile));
        Assert.Equal(EncoderFamilies.WordPiece, manifest.TokenizerKind);
        Assert.Equal(EncoderFamilies.MeanPooledTokens, manifest.Text.Kind);
        Assert.Equal(["text.onnx", "vocab.txt"], manifest.Restore.Select(r => r.File));
        using var model = OnnxClipModel.Load("Test/tiny", new ClipRuntimeOptions { ModelsDirectory = models, ExecutionProvider = ExecutionProviderChoice.Cpu });
        Assert.True(File.Exists(Path.Combine(folder, "text.onnx")));
        var text = model.EmbedTexts(["the rod stands on end above the trolley"]);
        Assert.Equal(384, text.Length);
        var image = new float[384];
        model.EmbedImages(new byte[224 * 224 * 3], 1, 224, 224, image);
        Assert.True(double.IsFinite(ClipReward.Cosine(text, image)));
    }

    [Fact]
    public void An_unknown_text_tower_is_named_with_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => (ClipTrainerTests.Tiny(1) with { TextTower = "bert-large" }).Validate());
        Assert.Contains("'bert-large'", error.Message);
        Assert.Contains("minilm", error.Message);
    }

    /// <summary>The on-task sentences must test language, not the grammar's vocabulary: none uses its words for the goal's objects and states.</summary>
    [Fact]
    public void Held_out_on_task_sentences_avoid_the_grammars_words_for_the_goal()
    {
        string[] grammarWords = ["pole", "cart", "car", "flag", "mountain", "hill", "upright", "vertical", "peak", "summit", "top", "balanced", "vehicle"];
        foreach (var (task, lists) in HeldOutLanguage.ByTask)
        {
            foreach (var sentence in lists.Single(l => l.Name == "on-task").Sentences)
            {
                var words = sentence.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
                Assert.DoesNotContain(words, w => grammarWords.Contains(w, StringComparer.OrdinalIgnoreCase));
            }
        }
        Assert.All(HeldOutLanguage.Written, s => Assert.Contains(s, CaptionGrammar.HeldOutPrompts));
    }
}
