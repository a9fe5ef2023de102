using System.Text.Json;
using TorchSharp;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.ClipTraining.Model;
using VlmRm.Envs.Imaging;
using static TorchSharp.torch;

namespace VlmRm.ClipTraining;

/// <summary>training.json beside a trained model: how to make it again and how it scores on the paper's prompts.</summary>
public sealed record TrainedClipReport
{
    public required string Name { get; init; }
    public required string Command { get; init; }
    public required ClipTrainingOptions Recipe { get; init; }
    public required string RecipeHash { get; init; }
    /// <summary>The trained ViT's shapes; null when the image tower is a locked pretrained one (no ViT was built).</summary>
    public required ClipArchitecture? Architecture { get; init; }

    /// <summary>GFLOP of one frame through the image path, tower and head: what a run's labelling costs per frame.</summary>
    public required double ImageTowerGflop { get; init; }
    public required long Parameters { get; init; }
    public required int Steps { get; init; }

    /// <summary>With <see cref="ClipTrainingOptions.UntilPlateau"/>: the step the loss stopped falling and the rate began its decay; null when it had not by the step cap.</summary>
    public int? Plateau { get; init; }
    public required double FinalLoss { get; init; }
    public required double TrainingSeconds { get; init; }
    public required double MeanPairsPerSecond { get; init; }

    /// <summary>Lowest cosine between the ONNX towers' and TorchSharp's embeddings of the reference inputs.</summary>
    public required double OnnxAgreement { get; init; }

    public required IReadOnlyList<PromptScore> PaperPrompts { get; init; }
}

/// <summary>
/// Turns a trained <see cref="ClipModule"/> into a model folder the registry loads like any exported CLIP:
/// image.onnx and text.onnx (token table in float16), model.json with sizes and SHA-256s, reference.json,
/// training.json and the loss curve. Everything is written and checked in a hidden folder first and moved into
/// place last, so a failed or interrupted export never leaves a half-written model in the registry.
/// </summary>
public static class TrainedClipPublisher
{
    public const double RequiredAgreement = 0.9999;
    public const string Description =
        "VlmRm's own CLIP: trained contrastively on frames of VlmRm's environments (CartPole, MountainCar, textured MountainCar, Humanoid) " +
        "paired with grammar-generated captions. A learned model of these environments, NOT zero-shot CLIP; the paper's prompts are held out of its training captions.";

    private static readonly string[] ReferenceTexts = ["a photo of a cat", "pole vertically upright on top of the cart", "a car in the mountain"];

    public static TrainedClipReport Publish(ClipTrainer trainer, ClipTrainingOptions options, string modelsDirectory, string command, double trainingSeconds, string tokenizerPath)
    {
        var name = options.RegistryName;
        var target = Path.Combine(Path.GetFullPath(modelsDirectory), ClipModelRegistry.FolderName(name));
        var staging = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var locked = options.TextTower is { } towerName ? PretrainedTextTowers.Get(towerName) : null;
            var lockedImage = options.ImageTower is { } imageTowerName ? PretrainedImageTowers.Get(imageTowerName) : null;
            var imageHead = lockedImage is null ? null
                : trainer.Model.LockedImageHead() ?? throw new InvalidOperationException("The trained module has no head on a locked image tower.");
            if (locked is null) RoundTokenTableToHalf(trainer.Model);
            var manifest = lockedImage is not null
                ? WriteLockedImageFolder(imageHead!, staging, name, lockedImage, locked!)
                : trainer.Model.ToWeights().WriteModelFolder(staging, name, new ClipExportOptions
                {
                    HalfTokenEmbedding = true,
                    Description = locked is null ? Description : $"{Description} Its text tower is {locked.Description}; only the image tower was trained.",
                    LockedText = locked,
                    LockedTextHead = trainer.Model.LockedTextHead(),
                });
            // The committed part of a folder is what its restore list does not bring back from a package.
            var committed = Directory.GetFiles(staging).Sum(f => new FileInfo(f).Length);
            PackagedFiles.RestoreMissing(staging, manifest.Restore);
            if (lockedImage is not null)
            {
                // The adapted tower is what the registry checks on every load, not the package's file.
                var adapted = File.ReadAllBytes(Path.Combine(staging, manifest.Image.File));
                manifest = manifest with { Image = manifest.Image with { Bytes = adapted.Length, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(adapted)) } };
                manifest.Save(Path.Combine(staging, ClipModelRegistry.ManifestFile));
            }
            var tokenizer = locked is null ? tokenizerPath : Path.Combine(staging, manifest.Tokenizer);
            var folder = new ClipModelFolder(name, staging, manifest, Path.Combine(staging, manifest.Image.File), Path.Combine(staging, manifest.Text.File), tokenizer, null);
            var runtime = new ClipRuntimeOptions { ExecutionProvider = ExecutionProviderChoice.Cpu, VerifyReferenceEmbeddings = false };
            TrainedClipReport report;
            using (var onnx = OnnxClipModel.Load(folder, runtime))
            {
                var agreement = WriteReference(trainer, onnx, Path.Combine(staging, ClipModelRegistry.ReferenceFile));
                if (agreement < RequiredAgreement)
                {
                    throw new InvalidOperationException($"The exported ONNX towers disagree with the trained model (cosine {agreement:F6} < {RequiredAgreement}); nothing was published.");
                }
                var curve = trainer.Curve;
                report = new TrainedClipReport
                {
                    Name = name,
                    Command = command,
                    Recipe = options,
                    RecipeHash = trainer.RecipeHash,
                    Architecture = lockedImage is null ? trainer.Architecture : null,
                    ImageTowerGflop = lockedImage is null ? trainer.Architecture.ImageTowerGflop : lockedImage.GflopPerImage + imageHead!.Gflop,
                    Parameters = manifest.Parameters,
                    Steps = trainer.Step,
                    Plateau = trainer.Plateau,
                    FinalLoss = curve.Count == 0 ? double.NaN : curve.TakeLast(Math.Min(50, curve.Count)).Average(p => p.Loss),
                    TrainingSeconds = trainingSeconds,
                    MeanPairsPerSecond = curve.Count == 0 ? 0 : curve.Average(p => p.PairsPerSecond),
                    OnnxAgreement = agreement,
                    PaperPrompts = PaperPromptEvaluation.Measure(onnx, options.Envs, assetsDirectory: options.AssetsDirectory),
                };
            }
            File.WriteAllText(Path.Combine(staging, "training.json"), JsonSerializer.Serialize(report, ClipModelManifest.Json));
            File.WriteAllText(Path.Combine(staging, "curve.csv"), trainer.CurveCsv());
            var bytes = committed + new[] { "training.json", "curve.csv", ClipModelRegistry.ReferenceFile }.Sum(f => new FileInfo(Path.Combine(staging, f)).Length);
            if (options.MaxModelBytes > 0 && bytes > options.MaxModelBytes)
            {
                throw new InvalidOperationException($"Model {name} is {bytes:N0} bytes, over the {options.MaxModelBytes:N0}-byte limit for a shipped model; choose a smaller size or raise --max-bytes.");
            }
            Replace(staging, target);
            return report;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// A folder whose towers are both locked and pretrained, restored from their packages on first load: it commits
    /// only the trained image head (image_head.onnx) and the manifest.
    /// </summary>
    private static ClipModelManifest WriteLockedImageFolder(LockedImageHead head, string folder, string name, PretrainedImageTower image, PretrainedTextTower text)
    {
        Directory.CreateDirectory(folder);
        var (bytes, parameters) = head.Export();
        File.WriteAllBytes(Path.Combine(folder, LockedImageHead.File), bytes);
        var manifest = image.Into(text.Into(new ClipModelManifest
        {
            Name = name,
            Description = $"{Description} Its image tower is {image.Description}, its text tower {text.Description}; only a head from the image features into the text space was trained.",
            ImageSize = image.ImageSize, EmbedDim = text.EmbedDim, Image = image.Tower, Text = text.Tower,
        }), TowerFile.Written(LockedImageHead.File, LockedImageHead.Input, LockedImageHead.Output, bytes), parameters);
        manifest.Save(Path.Combine(folder, ClipModelRegistry.ManifestFile));
        return manifest;
    }

    /// <summary>The export stores the token table in float16; rounding the trained table first keeps both forward passes identical.</summary>
    private static void RoundTokenTableToHalf(ClipModule model)
    {
        using var _ = no_grad();
        var table = model.named_parameters().First(p => p.name == "token_embedding.weight").parameter;
        table.copy_(table.to(ScalarType.Float16).to(ScalarType.Float32));
    }

    /// <summary>Writes reference.json from the ONNX towers; returns the lowest cosine to TorchSharp's embeddings of the same inputs.</summary>
    private static double WriteReference(ClipTrainer trainer, OnnxClipModel onnx, string path)
    {
        var dim = onnx.EmbedDim;
        var size = onnx.Manifest.ImageSize;
        var textEmbeddings = onnx.EmbedTexts(ReferenceTexts);
        var imageEmbeddings = new List<float[]>();
        var worst = 1.0;
        trainer.Model.eval();
        using (no_grad())
        {
            var expected = trainer.EmbedTexts(ReferenceTexts);
            for (var i = 0; i < ReferenceTexts.Length; i++) worst = Math.Min(worst, ClipReward.Cosine(textEmbeddings.AsSpan(i * dim, dim), expected.AsSpan(i * dim, dim)));
            var pixels = new float[onnx.Preprocessor.FloatsPerImage];
            foreach (var kind in ReferenceImages.Kinds)
            {
                var rgb = ReferenceImages.Make(kind, size);
                var embedding = new float[dim];
                onnx.EmbedImages(rgb, 1, size, size, embedding);
                imageEmbeddings.Add(embedding);
                onnx.Preprocessor.Preprocess(rgb, 1, size, size, pixels);
                worst = Math.Min(worst, ClipReward.Cosine(embedding, trainer.EmbedImages(pixels, 1)));
            }
        }
        var reference = new ReferenceEmbeddings
        {
            Texts = ReferenceTexts,
            TextEmbeddings = Enumerable.Range(0, ReferenceTexts.Length).Select(i => textEmbeddings.AsSpan(i * dim, dim).ToArray()).ToArray(),
            Images = [.. ReferenceImages.Kinds],
            ImageEmbeddings = [.. imageEmbeddings],
        };
        File.WriteAllText(path, JsonSerializer.Serialize(reference, ClipModelManifest.Json));
        return worst;
    }

    /// <summary>Moves the staged folder into place; an existing model of the same name is replaced whole.</summary>
    private static void Replace(string staging, string target)
    {
        var old = target + $".old-{Guid.NewGuid():N}";
        if (Directory.Exists(target)) Directory.Move(target, old);
        Directory.Move(staging, target);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }
}
