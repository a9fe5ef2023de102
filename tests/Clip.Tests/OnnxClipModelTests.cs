using VlmRm.Clip.Export;
using Microsoft.Extensions.Logging;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;

namespace VlmRm.Clip.Tests;

/// <summary>The real ONNX Runtime path on a CLIP-architecture model built by the tests, checked against an independent computation.</summary>
public class OnnxClipModelTests(SyntheticModelFixture fixture) : IClassFixture<SyntheticModelFixture>
{
    private OnnxClipModel Load(Func<ClipRuntimeOptions, ClipRuntimeOptions>? change = null)
    {
        return OnnxClipModel.Load(SyntheticModelFixture.Name, fixture.Options(change));
    }

    [Fact]
    public void Image_embeddings_from_onnx_runtime_match_an_independent_computation()
    {
        using var model = Load();
        var size = model.Manifest.ImageSize;
        var rng = new Random(3);
        const int count = 3;
        var pixels = new float[count * 3 * size * size];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(rng.NextDouble() * 4 - 2);
        var embeddings = new float[count * model.EmbedDim];
        model.EmbedPreprocessed(pixels, count, embeddings);
        for (var n = 0; n < count; n++)
        {
            var expected = ReferenceForward.Image(fixture.Model, pixels.AsSpan(n * 3 * size * size, 3 * size * size));
            for (var e = 0; e < model.EmbedDim; e++) Assert.Equal(expected[e], embeddings[n * model.EmbedDim + e], 1e-4);
        }
    }

    [Fact]
    public void Text_embeddings_from_onnx_runtime_match_an_independent_computation()
    {
        using var model = Load();
        string[] texts = ["a humanoid robot kneeling", "pole and cart", "a car at the peak of the mountain, next to the yellow flag"];
        var embeddings = model.EmbedTexts(texts);
        var tokens = model.Tokenizer.TokenizeBatch(texts, model.Manifest.ContextLength).Ids;
        for (var n = 0; n < texts.Length; n++)
        {
            var expected = ReferenceForward.Text(fixture.Model, tokens.AsSpan(n * 77, 77));
            for (var e = 0; e < model.EmbedDim; e++) Assert.Equal(expected[e], embeddings[n * model.EmbedDim + e], 1e-4);
        }
    }

    [Fact]
    public void Frames_of_any_size_are_batched_chunked_and_embedded_like_one_at_a_time()
    {
        using var model = Load(o => o with { MaxImageBatch = 2 });
        const int count = 5, height = 40, width = 60;
        var frames = new byte[count * height * width * 3];
        new Random(5).NextBytes(frames);
        var batched = new float[count * model.EmbedDim];
        model.EmbedImages(frames, count, height, width, batched);
        var single = new float[model.EmbedDim];
        var tensor = new float[model.Preprocessor.FloatsPerImage];
        for (var n = 0; n < count; n++)
        {
            model.EmbedImages(frames.AsSpan(n * height * width * 3, height * width * 3), 1, height, width, single);
            Assert.Equal(single, batched.AsSpan(n * model.EmbedDim, model.EmbedDim).ToArray());
            // And it is the image tower applied to OpenCLIP's preprocessing of the frame.
            model.Preprocessor.Preprocess(frames.AsSpan(n * height * width * 3, height * width * 3), 1, height, width, tensor);
            var expected = ReferenceForward.Image(fixture.Model, tensor);
            for (var e = 0; e < model.EmbedDim; e++) Assert.Equal(expected[e], single[e], 1e-4);
        }
    }

    [Fact]
    public void Reward_model_scores_frames_with_the_papers_equation()
    {
        using var model = Load();
        var rewardModel = new ClipRewardModel(model, new RewardPrompts(["pole vertically upright on top of the cart"], ["pole and cart"]), alpha: 0);
        const int count = 4, side = 32;
        var frames = new byte[count * side * side * 3];
        new Random(9).NextBytes(frames);
        var rewards = new float[count];
        var embeddings = new float[count * model.EmbedDim];
        rewardModel.Label(frames, side, side, rewards, embeddings);
        for (var n = 0; n < count; n++)
        {
            var embedding = embeddings.AsSpan(n * model.EmbedDim, model.EmbedDim);
            Assert.Equal(ClipReward.Cosine(rewardModel.GoalEmbedding, embedding), rewards[n], 5);
            Assert.NotEqual(rewards[n], rewardModel.WithAlpha(0.5f).Score(embedding));
        }
    }

    [Fact]
    public void Reference_embeddings_are_verified_on_load_and_a_mismatch_names_the_input()
    {
        var (options, folder) = fixture.CopyModel("Synthetic-ViT/with-reference");
        var tokenizer = TokenizerFiles.Require();
        var size = fixture.Model.Config.ImageSize;
        var preprocessor = new Preprocessing.ClipPreprocessor(size, fixture.Manifest.Mean, fixture.Manifest.Std);
        var tensor = new float[preprocessor.FloatsPerImage];
        string[] texts = ["a photo of a cat", "a humanoid robot"];
        var tokens = tokenizer.Tokenize(texts);
        var reference = new ReferenceEmbeddings
        {
            Texts = texts,
            TextEmbeddings = texts.Select((_, i) => ReferenceForward.Text(fixture.Model, tokens.AsSpan(i * 77, 77)).Select(v => (float)v).ToArray()).ToArray(),
            Images = [.. ReferenceImages.Kinds],
            ImageEmbeddings = ReferenceImages.Kinds.Select(kind =>
            {
                preprocessor.Preprocess(ReferenceImages.Make(kind, size), 1, size, size, tensor);
                return ReferenceForward.Image(fixture.Model, tensor).Select(v => (float)v).ToArray();
            }).ToArray(),
        };
        var path = Path.Combine(folder, ClipModelRegistry.ReferenceFile);
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(reference, ClipModelManifest.Json));
        using (OnnxClipModel.Load("Synthetic-ViT/with-reference", options))
        {
        }

        reference.ImageEmbeddings[1] = reference.ImageEmbeddings[1].Select(v => -v).ToArray();
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(reference, ClipModelManifest.Json));
        var error = Assert.Throws<InvalidDataException>(() => OnnxClipModel.Load("Synthetic-ViT/with-reference", options));
        Assert.Contains("image \"checkerboard\"", error.Message);
    }

    [Fact]
    public void Auto_without_the_gpu_build_falls_back_to_cpu_with_a_log_line()
    {
        var logger = new ListLogger();
        using var model = OnnxClipModel.Load(SyntheticModelFixture.Name, fixture.Options(o => o with { ExecutionProvider = ExecutionProviderChoice.Auto }), logger);
        Assert.Equal("CPU", model.ExecutionProvider);
        Assert.Contains(logger.Lines, l => l.Contains("CUDA execution provider unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public void An_explicit_cuda_request_without_the_gpu_build_is_refused_by_name()
    {
        Assert.False(OnnxClipModel.CudaExecutionProviderAvailable(), "this test is for machines without the CUDA execution provider");
        var error = Assert.Throws<InvalidOperationException>(() =>
            OnnxClipModel.Load(SyntheticModelFixture.Name, fixture.Options(o => o with { ExecutionProvider = ExecutionProviderChoice.Cuda })));
        Assert.StartsWith("Clip:ExecutionProvider is cuda, but this process cannot run CLIP on CUDA", error.Message);
        Assert.Contains("set Clip:ExecutionProvider to auto", error.Message);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Lines.Add(formatter(state, exception));
    }
}

public class QuantizedExportTests
{
    [Fact]
    public void Int8_dynamic_quantization_stays_close_to_fp32()
    {
        var model = Synthetic.SyntheticClip.Create(new Export.ClipArchitecture { VisionWidth = 64, VisionHeads = 4 }, seed: 11);
        using var fp32 = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ExportImageTower().Bytes);
        using var int8 = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ExportImageTower(quantizeInt8: true).Bytes);
        var size = model.Config.ImageSize;
        var pixels = new float[4 * 3 * size * size];
        var rng = new Random(4);
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(rng.NextDouble() * 4 - 2);
        float[] Embed(Microsoft.ML.OnnxRuntime.InferenceSession session)
        {
            using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pixels, [4, 3, size, size]);
            using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), [Export.ClipWeights.ImageInput], [input], [Export.ClipWeights.ImageOutput]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        var a = Embed(fp32);
        var b = Embed(int8);
        var dim = model.Config.EmbedDim;
        for (var n = 0; n < 4; n++)
        {
            var cosine = ClipReward.Cosine(a.AsSpan(n * dim, dim), b.AsSpan(n * dim, dim));
            Assert.InRange(cosine, 0.99f, 1.0001f);
        }
        Assert.NotEqual(a, b); // it really ran the quantized graph
    }
}
