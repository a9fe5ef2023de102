using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using VlmRm.Clip.Models;
using VlmRm.Clip.Onnx;
using VlmRm.Clip.Preprocessing;
using VlmRm.Clip.Reward;

namespace VlmRm.ClipTraining.Tests;

/// <summary>A head trained on the locked ImageNet ResNet18's features into the locked MiniLM space, published and loaded back.</summary>
public class LockedImageTowerTests
{
    private static readonly PretrainedImageTower ResNet18 = PretrainedImageTowers.ResNet18;

    private static string PackageFile => Path.Combine(PackagedFiles.PackagesFolder, ResNet18.File.Package.ToLowerInvariant(), ResNet18.File.Version, ResNet18.File.PackagePath!);

    /// <summary>
    /// The adapted tower on RGB planes of any batch gives the features the package's model gives, one image at a time,
    /// on the same planes in BGR order (the ImageNet mean subtracted in both).
    /// </summary>
    [Fact]
    public void The_adapted_resnet_takes_a_batch_of_rgb_planes_and_returns_the_packages_features()
    {
        const int Count = 3;
        var size = ResNet18.ImageSize;
        var plane = size * size;
        var random = new Random(7);
        var frames = new byte[Count * plane * 3];
        random.NextBytes(frames);
        for (var i = 0; i < plane; i++) frames[i * 3] = 250; // the first image strongly red, so a channel swap shows
        var rgb = new float[Count * 3 * plane];
        new ClipPreprocessor(size, ResNet18.Mean, ResNet18.Std).Preprocess(frames, Count, size, size, rgb);

        using var adapted = new InferenceSession(OnnxModelAdapters.All[ResNet18.File.Adapter!](File.ReadAllBytes(PackageFile)));
        using var batched = adapted.Run([NamedOnnxValue.CreateFromTensor(ResNet18.Tower.Input, new DenseTensor<float>(rgb, [Count, 3, size, size]))]);
        var features = batched.Single().AsTensor<float>().ToArray();
        Assert.Equal(Count * ResNet18.FeatureDim, features.Length);

        using var original = new InferenceSession(PackageFile);
        for (var image = 0; image < Count; image++)
        {
            var bgr = new float[3 * plane];
            for (var channel = 0; channel < 3; channel++) rgb.AsSpan((image * 3 + 2 - channel) * plane, plane).CopyTo(bgr.AsSpan(channel * plane, plane));
            using var single = original.Run([NamedOnnxValue.CreateFromTensor(ResNet18.Tower.Input, new DenseTensor<float>(bgr, [1, 3, size, size]))]);
            var expected = single.Single().AsTensor<float>().ToArray();
            var actual = features.AsSpan(image * ResNet18.FeatureDim, ResNet18.FeatureDim);
            for (var k = 0; k < expected.Length; k++) Assert.Equal(expected[k], actual[k], 3e-3f * Math.Max(1, Math.Abs(expected[k])));
        }
    }

    [Fact]
    public void A_head_on_the_locked_image_tower_publishes_only_the_head_and_restores_both_towers_on_load()
    {
        var models = ClipTrainerTests.TempFolder();
        var options = ClipTrainerTests.Tiny(4) with { TextTower = "minilm", ImageTower = "resnet18", BatchSize = 8, FeatureBatches = 2 };
        using var trainer = new ClipTrainer(options, ClipTrainerTests.TempFolder(), ClipTrainerTests.Tokenizer);
        Assert.True(trainer.Model.HasLockedImageTower);
        trainer.Train(cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(trainer.Curve, p => Assert.True(double.IsFinite(p.Loss)));
        var report = TrainedClipPublisher.Publish(trainer, options, models, "test", 1, ClipTrainerTests.Tokenizer);
        Assert.True(report.OnnxAgreement >= TrainedClipPublisher.RequiredAgreement);
        // No ViT was built, so none is recorded; a frame costs the tower and the head.
        Assert.Null(report.Architecture);
        Assert.Equal(ResNet18.GflopPerImage + trainer.Model.LockedImageHead()!.Gflop, report.ImageTowerGflop, 12);
        Assert.InRange(report.ImageTowerGflop - ResNet18.GflopPerImage, 1e-4, 1e-2);

        // What a clone holds: the manifest and the trained head; both towers come back from their packages.
        var folder = Path.Combine(models, "Test__tiny");
        foreach (var restored in new[] { "image.onnx", "text.onnx", "vocab.txt" }) File.Delete(Path.Combine(folder, restored));
        var manifest = ClipModelManifest.Load(Path.Combine(folder, ClipModelRegistry.ManifestFile));
        Assert.Equal(EncoderFamilies.PooledFeatureMap, manifest.Image.Kind);
        Assert.Equal("image_head.onnx", manifest.ImageHead!.File);
        Assert.Equal(["text.onnx", "vocab.txt", "image.onnx"], manifest.Restore.Select(r => r.File));
        using var model = OnnxClipModel.Load("Test/tiny", new ClipRuntimeOptions { ModelsDirectory = models, ExecutionProvider = ExecutionProviderChoice.Cpu });
        var text = model.EmbedTexts(["the rod stands on end above the trolley"]);
        var frames = new byte[2 * 224 * 224 * 3];
        new Random(3).NextBytes(frames);
        var images = new float[2 * 384];
        model.EmbedImages(frames, 2, 224, 224, images);
        Assert.True(double.IsFinite(ClipReward.Cosine(text, images.AsSpan(0, 384))));
        Assert.NotEqual(images[0], images[384]);
    }

    [Fact]
    public void A_locked_image_tower_needs_a_locked_text_tower_and_a_known_name()
    {
        var unknown = Assert.Throws<ArgumentException>(() => (ClipTrainerTests.Tiny(1) with { TextTower = "minilm", ImageTower = "vgg16" }).Validate());
        Assert.Contains("'vgg16'", unknown.Message);
        Assert.Contains("resnet18", unknown.Message);
        var alone = Assert.Throws<ArgumentException>(() => (ClipTrainerTests.Tiny(1) with { ImageTower = "resnet18" }).Validate());
        Assert.Contains("--text-tower", alone.Message);
    }
}
