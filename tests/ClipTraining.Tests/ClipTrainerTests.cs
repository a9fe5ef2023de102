using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Clip.Tokenization;
using VlmRm.ClipTraining.Model;
using static TorchSharp.torch;

namespace VlmRm.ClipTraining.Tests;

public class ClipTrainerTests
{
    internal static readonly string Tokenizer = Path.Combine(AppContext.BaseDirectory, ClipTokenizer.MergesFileName);

    internal static ClipTrainingOptions Tiny(int steps) => new()
    {
        Size = "tiny", Envs = ["CartPole", "MountainCarTextured"], Steps = steps, BatchSize = 32, WarmupSteps = 5, LearningRate = 2e-3,
        CheckpointEvery = 10, Threads = 2, Name = "Test/tiny",
    };

    internal static string TempFolder() => Directory.CreateTempSubdirectory("vlmrm-clip-train-").FullName;

    [Fact]
    public void Training_lowers_the_contrastive_loss()
    {
        using var trainer = new ClipTrainer(Tiny(60), TempFolder(), Tokenizer);
        trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        var first = trainer.Curve.Take(5).Average(p => p.Loss);
        var last = trainer.Curve.TakeLast(10).Average(p => p.Loss);
        Assert.True(last < first - 0.3, $"loss went from {first:F3} to {last:F3}");
    }

    [Fact]
    public void Exported_onnx_towers_match_torchsharp_and_load_through_the_registry()
    {
        var models = TempFolder();
        var options = Tiny(12);
        using var trainer = new ClipTrainer(options, TempFolder(), Tokenizer);
        trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        var report = TrainedClipPublisher.Publish(trainer, options, models, "test", 1, Tokenizer);
        Assert.True(report.OnnxAgreement >= 0.9999, $"agreement {report.OnnxAgreement}");

        // The registry verifies sizes, SHA-256s and reference.json on load; then compare on new inputs too.
        using var onnx = OnnxClipModel.Load("Test/tiny", new ClipRuntimeOptions { ModelsDirectory = models, ExecutionProvider = ExecutionProviderChoice.Cpu, IntraOpThreads = 1 });
        Assert.Contains("NOT zero-shot CLIP", onnx.Manifest.Description);
        string[] texts = ["a pole leaning to the left", "the car is in the valley"];
        var onnxText = onnx.EmbedTexts(texts);
        var random = new Random(1);
        var rgb = new byte[224 * 224 * 3];
        random.NextBytes(rgb);
        var onnxImage = new float[onnx.EmbedDim];
        onnx.EmbedImages(rgb, 1, 224, 224, onnxImage);
        var pixels = new float[onnx.Preprocessor.FloatsPerImage];
        onnx.Preprocessor.Preprocess(rgb, 1, 224, 224, pixels);
        trainer.Model.eval();
        using (no_grad())
        {
            using var tokens = trainer.Tokens(texts);
            var torchText = ClipModule.Values(trainer.Model.EncodeText(tokens));
            for (var i = 0; i < texts.Length; i++)
            {
                var cosine = ClipReward.Cosine(onnxText.AsSpan(i * onnx.EmbedDim, onnx.EmbedDim), torchText.AsSpan(i * onnx.EmbedDim, onnx.EmbedDim));
                Assert.True(cosine >= 0.9999, $"text \"{texts[i]}\": cosine {cosine}");
            }
            using var input = tensor(pixels, [1, 3, 224, 224]);
            var torchImage = ClipModule.Values(trainer.Model.EncodeImage(input));
            Assert.True(ClipReward.Cosine(onnxImage, torchImage) >= 0.9999);
        }
    }

    [Fact]
    public void Cutting_tokens_after_the_longest_end_token_gives_the_full_context_embeddings()
    {
        using var trainer = new ClipTrainer(Tiny(1), TempFolder(), Tokenizer);
        trainer.Model.eval();
        using var _ = no_grad();
        using var cut = trainer.Tokens(["a cart", "a pole standing upright on a cart"]);
        Assert.True(cut.shape[1] < 77);
        using var full = cat([cut, zeros([2, 77 - cut.shape[1]], ScalarType.Int64)], 1);
        var a = ClipModule.Values(trainer.Model.EncodeText(cut));
        var b = ClipModule.Values(trainer.Model.EncodeText(full));
        for (var i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-5f);
    }

    [Fact]
    public void An_interrupted_run_resumes_where_its_last_checkpoint_left_off()
    {
        var work = TempFolder();
        using (var first = new ClipTrainer(Tiny(10), work, Tokenizer))
        {
            Assert.False(first.Resumed);
            first.Train(cancellationToken: TestContext.Current.CancellationToken);
        }
        using var resumed = new ClipTrainer(Tiny(20), work, Tokenizer);
        Assert.True(resumed.Resumed);
        Assert.Equal(10, resumed.Step);
        Assert.Equal(10, resumed.Curve.Count);
        resumed.Train(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(20, resumed.Step);

        // Another recipe never resumes from this state.
        using var other = new ClipTrainer(Tiny(20) with { Seed = 9 }, work, Tokenizer);
        Assert.False(other.Resumed);
    }

    [Fact]
    public void A_damaged_training_state_is_a_named_error()
    {
        var work = TempFolder();
        File.WriteAllBytes(Path.Combine(work, "training-state.bin"), [1, 2, 3]);
        var error = Assert.Throws<InvalidDataException>(() => new ClipTrainer(Tiny(5), work, Tokenizer));
        Assert.Contains("training-state.bin", error.Message);
        Assert.Contains("delete it", error.Message);
    }

    [Fact]
    public void A_model_over_the_size_limit_is_refused_and_nothing_reaches_the_registry()
    {
        var models = TempFolder();
        var options = Tiny(2) with { MaxModelBytes = 100_000 };
        using var trainer = new ClipTrainer(options, TempFolder(), Tokenizer);
        trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        var error = Assert.Throws<InvalidOperationException>(() => TrainedClipPublisher.Publish(trainer, options, models, "test", 1, Tokenizer));
        Assert.Contains("over the 100,000-byte limit", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(models));
    }

    [Fact]
    public void An_until_plateau_run_stops_when_its_decay_after_the_plateau_ends_or_at_its_cap()
    {
        // Short windows so the test is quick; the schedule's reading of a plateau is tested on its own.
        var options = Tiny(200) with { UntilPlateau = true, PlateauWindow = 10 };
        using var trainer = new ClipTrainer(options, TempFolder(), Tokenizer);
        trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(trainer.IsComplete);
        var decayEnd = trainer.Plateau is { } plateau ? plateau + (int)Math.Round(plateau * LearningRateSchedule.DecayShare) : options.Steps;
        Assert.Equal(decayEnd, trainer.Step);
        Assert.True(trainer.Curve[^1].Loss < trainer.Curve[0].Loss);
    }

    [Fact]
    public void Bad_options_are_named()
    {
        Assert.Contains("huge", Assert.Throws<ArgumentException>(() => new ClipTrainingOptions { Size = "huge" }.Validate()).Message);
        Assert.Contains("Pendulum", Assert.Throws<ArgumentException>(() => new ClipTrainingOptions { Envs = ["Pendulum"] }.Validate()).Message);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => new ClipTrainingOptions { BatchSize = 1 }.Validate()).Message);
        Assert.Contains("Learning rate", Assert.Throws<ArgumentException>(() => new ClipTrainingOptions { LearningRate = double.NaN }.Validate()).Message);
    }
}
