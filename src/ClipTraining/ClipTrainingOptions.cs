using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.ClipTraining.Data;

namespace VlmRm.ClipTraining;

/// <summary>
/// The model sizes VlmRm trains for its own size sweep (paper section 4.4 in miniature). All keep OpenCLIP's
/// ViT-?/32 layout at 224 px and CLIP's 49,408-token vocabulary with context 77.
/// </summary>
public static class TrainedClipSizes
{
    public static IReadOnlyDictionary<string, ClipArchitecture> All { get; } = new Dictionary<string, ClipArchitecture>(StringComparer.OrdinalIgnoreCase)
    {
        // For smoke tests of the pipeline only: too small to be a useful reward model.
        ["tiny"] = Make(visionWidth: 32, visionLayers: 1, textWidth: 32, textLayers: 1, embed: 32),
        ["small"] = Make(visionWidth: 64, visionLayers: 3, textWidth: 64, textLayers: 3, embed: 64),
        ["medium"] = Make(visionWidth: 128, visionLayers: 4, textWidth: 96, textLayers: 3, embed: 96),
        ["large"] = Make(visionWidth: 192, visionLayers: 6, textWidth: 128, textLayers: 4, embed: 128),
    };

    public static ClipArchitecture Get(string size) => All.TryGetValue(size, out var arch)
        ? arch
        : throw new ArgumentException($"Unknown model size '{size}'; sizes: {string.Join(", ", All.Keys)}.");

    /// <summary>
    /// The registry name of a trained size, e.g. VlmRm-S-32/envs-v2, or VlmRm-S-32-MiniLM/envs-v3 for one trained
    /// against a locked text tower, or VlmRm-ResNet18-MiniLM/envs-v4 for a head on a locked image tower (no size).
    /// A run trained until its loss's plateau is tagged envs-vN-plateau: the schedule changes the weights as much as the
    /// data does, and a plateau run must never overwrite the cosine model of the same size and scenes.
    /// </summary>
    public static string ModelName(string size, string? textTower = null, string? imageTower = null, bool untilPlateau = false)
    {
        var image = imageTower is null ? $"{char.ToUpperInvariant(size[0])}-32" : PretrainedImageTowers.Get(imageTower).RegistrySuffix;
        var text = textTower is null ? "" : "-" + PretrainedTextTowers.Get(textTower).RegistrySuffix;
        return $"VlmRm-{image}{text}/envs-v{SceneSources.Version}{(untilPlateau ? "-plateau" : "")}";
    }

    private static ClipArchitecture Make(int visionWidth, int visionLayers, int textWidth, int textLayers, int embed) => new()
    {
        ImageSize = 224, PatchSize = 32,
        VisionWidth = visionWidth, VisionLayers = visionLayers, VisionHeads = visionWidth / 32,
        TextWidth = textWidth, TextLayers = textLayers, TextHeads = textWidth / 32,
        EmbedDim = embed,
    };
}

/// <summary>A training run of VlmRm's CLIP: the data recipe, the optimization and where the model goes.</summary>
public sealed record ClipTrainingOptions
{
    public string Size { get; init; } = "small";

    /// <summary>
    /// A pretrained text tower to train the image tower against, locked (<see cref="PretrainedTextTowers"/>, e.g. minilm);
    /// null trains CLIP's own text tower from scratch with the image tower.
    /// </summary>
    public string? TextTower { get; init; }

    /// <summary>With <see cref="TextTower"/>: also train a residual linear head on its embeddings (starts as the identity).</summary>
    public bool TextHead { get; init; }

    /// <summary>
    /// A pretrained image tower to keep locked (<see cref="PretrainedImageTowers"/>, e.g. resnet18): only a head from its
    /// pooled features into the locked text tower's space trains; null trains the ViT image tower of <see cref="Size"/>.
    /// </summary>
    public string? ImageTower { get; init; }

    /// <summary>
    /// With <see cref="ImageTower"/>: the distinct batches the head trains on, cycled. The locked tower embeds each
    /// frame once (ResNet18 at 224 px runs ≈ 30 frames/s on two cores, a hundredth of the small ViT's training speed).
    /// </summary>
    public int FeatureBatches { get; init; } = 64;

    /// <summary>
    /// Weight λ of the off-scene term (<see cref="ClipTrainer.ContrastiveLoss"/>): other scenes' captions and unrelated
    /// sentences held flat over each scene's frames. 0 trains InfoNCE alone.
    /// </summary>
    public double OffSceneWeight { get; init; }

    /// <summary>Registry name of the result; default <see cref="TrainedClipSizes.ModelName"/>.</summary>
    public string? Name { get; init; }

    /// <summary>The name the result is published under: <see cref="Name"/>, or the size's default for this recipe.</summary>
    public string RegistryName => Name ?? TrainedClipSizes.ModelName(Size, TextTower, ImageTower, UntilPlateau);

    /// <summary>Environments the frames come from, drawn in equal shares.</summary>
    public IReadOnlyList<string> Envs { get; init; } = ["CartPole", "MountainCar", "MountainCarTextured", "Humanoid"];

    /// <summary>The cosine schedule's steps; with <see cref="UntilPlateau"/>, the most the run may take.</summary>
    public int Steps { get; init; } = 2000;

    /// <summary>Hold the peak rate until the loss stops falling, then decay (<see cref="LearningRateSchedule"/>).</summary>
    public bool UntilPlateau { get; init; }

    /// <summary>With <see cref="UntilPlateau"/>: steps per window the loss is averaged over to tell whether it still falls.</summary>
    public int PlateauWindow { get; init; } = LearningRateSchedule.DefaultWindow;

    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.05;
    public int Seed { get; init; }

    /// <summary>Humanoid frames rendered once and reused (MuJoCo renders on the CPU here).</summary>
    public int HumanoidPool { get; init; } = 400;

    /// <summary>The paper's textures and humanoid model (e.g. ../shared/assets/vlmrm); null uses the project's own.</summary>
    public string? AssetsDirectory { get; init; }

    /// <summary>TorchSharp intra-op threads; 0 uses every core.</summary>
    public int Threads { get; init; }

    /// <summary>Steps between resumable checkpoints of the run (model, optimizer, curve).</summary>
    public int CheckpointEvery { get; init; } = 250;

    /// <summary>Largest model folder accepted (the image and text towers and their manifests); 0 for no limit.</summary>
    public long MaxModelBytes { get; init; }

    public void Validate()
    {
        TrainedClipSizes.Get(Size);
        if (TextTower is { } tower) PretrainedTextTowers.Get(tower);
        else if (TextHead) throw new ArgumentException("A text head trains on a locked pretrained text tower: name one with --text-tower.");
        if (ImageTower is { } imageTower)
        {
            PretrainedImageTowers.Get(imageTower);
            if (TextTower is null) throw new ArgumentException("A locked image tower trains only a head into a locked text tower's space: name one with --text-tower.");
            if (FeatureBatches < 1) throw new ArgumentException($"Feature batches must be at least 1, got {FeatureBatches}.");
        }
        if (!(OffSceneWeight >= 0) || !double.IsFinite(OffSceneWeight)) throw new ArgumentException($"The off-scene weight must be a number ≥ 0, got {OffSceneWeight}.");
        if (Envs.Count == 0) throw new ArgumentException("Name at least one environment to draw training frames from.");
        foreach (var env in Envs)
        {
            if (!Data.SceneSources.EnvIds.Contains(env)) throw new ArgumentException($"No training scenes for environment '{env}'; known: {string.Join(", ", Data.SceneSources.EnvIds)}.");
        }
        if (Steps < 1) throw new ArgumentException($"Steps must be at least 1, got {Steps}.");
        if (PlateauWindow < 1) throw new ArgumentException($"The plateau window must be at least 1 step, got {PlateauWindow}.");
        var fewestForPlateau = LearningRateSchedule.FewestStepsForPlateau(WarmupSteps, PlateauWindow);
        if (UntilPlateau && Steps < fewestForPlateau)
        {
            throw new ArgumentException($"Training until the loss's plateau reads it over windows of {PlateauWindow} steps; allow at least {fewestForPlateau:F0} steps (--steps), got {Steps}.");
        }
        if (BatchSize < 2) throw new ArgumentException($"A contrastive batch needs at least 2 pairs, got {BatchSize}.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"Learning rate must be a positive number, got {LearningRate}.");
        if (WarmupSteps < 0 || CheckpointEvery < 1 || HumanoidPool < 1) throw new ArgumentException("Warm-up steps must be ≥ 0, checkpoint interval and humanoid pool ≥ 1.");
    }
}
