using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Envs;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Planning;

/// <summary>One run of a sweep with its shape, the rates it was planned at and its cost.</summary>
public sealed record PlannedRun(SweepRun Run, RunShape Shape, RunRates Rates, RunCost Cost);

/// <summary>
/// Plans a sweep's runs on <paramref name="node"/> (null: this machine's CPU alone). The CPU parts — environment steps
/// with their rendering, and learner updates — are measured here for each distinct run shape, about a second each;
/// the image tower is measured here when its model is in the models directory and the plan is for this machine, and
/// otherwise comes from the H200 measurements (<see cref="GpuFigures"/>), scaled to the node's GPU.
/// </summary>
public sealed class SweepPlanner(ClipRuntimeOptions clip, NodeType? node, double? pricePerHour = null, TimeSpan? budget = null)
{
    private readonly TimeSpan _budget = budget ?? TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, double> _vectorSteps = [];
    private readonly Dictionary<string, (double Rate, long NetworkBytes)> _learners = [];
    private readonly Dictionary<string, double> _localImages = [];
    private double? _matmulGflops;

    public NodeType? Node => node;

    public PlannedRun Plan(SweepRun run)
    {
        var config = run.Config;
        var memory = RunPlan.For(config, run.RunId);
        var model = config.Reward.LabellerFrames() is null ? null : config.Reward.Model ?? throw new InvalidDataException($"{run.RunId}: a CLIP reward needs reward.model.");
        var (learnerRate, networkBytes) = Learner(config, memory.Env);
        var tower = model is null ? null : GpuFigures.Tower(model);
        var (embedWidth, local, recordedGflop) = model is null ? (null, false, null) : Model(model);
        var (images, source) = model is null ? ((double?)null, "no frames labelled") : Images(config, model, tower, local);
        var shape = new RunShape(memory, networkBytes, embedWidth, tower?.GflopPerImage ?? recordedGflop);
        var rates = new RunRates(VectorSteps(config), learnerRate, images, source);
        return new PlannedRun(run, shape, rates, RunCost.For(config, shape, rates, node, pricePerHour));
    }

    /// <summary>The model's embedding width, whether it is here, and its image path's GFLOP per frame when its folder records it (a model trained here does).</summary>
    private (int? EmbedWidth, bool Local, double? ImageGflop) Model(string name)
    {
        var registry = new ClipModelRegistry(clip);
        if (registry.Available().Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            var folder = registry.Resolve(name);
            return (folder.Manifest.EmbedDim, true, RecordedImageGflop(folder.Directory));
        }
        return KnownClipModels.Find(name) is { } known ? (known.EmbedDim, false, null)
            : throw new ArgumentException($"CLIP model '{name}' is neither in {registry.ModelsDirectory} nor one of the known OpenCLIP names ({string.Join(", ", KnownClipModels.All.Select(m => m.Name))}): nothing to plan its labelling from.");
    }

    /// <summary>training.json's image_tower_gflop; folders published before it was recorded have only their ViT's shapes.</summary>
    private static double? RecordedImageGflop(string folder)
    {
        var training = Path.Combine(folder, "training.json");
        if (!File.Exists(training)) return null;
        using var json = JsonDocument.Parse(File.ReadAllBytes(training));
        var root = json.RootElement;
        if (root.TryGetProperty("image_tower_gflop", out var gflop)) return gflop.GetDouble();
        return root.TryGetProperty("architecture", out var architecture) && architecture.ValueKind == JsonValueKind.Object
            ? architecture.Deserialize<ClipArchitecture>(ClipModelManifest.Json)!.ImageTowerGflop : null;
    }

    private (double? ImagesPerSecond, string Source) Images(RunConfig config, string model, MeasuredTower? tower, bool local)
    {
        if (node?.Gpu is { } gpu && tower is not null)
        {
            return (GpuFigures.ImagesPerSecond(tower, node), node.Id == "nvidia-h200" ? $"{tower.Architecture} measured on an H200"
                : $"{tower.Architecture} measured on an H200, × {node.PublishedBf16Tflops:N0}/{GpuFigures.H200PublishedBf16Tflops:N0} published TFLOP/s for the {gpu}");
        }
        if (local)
        {
            var frames = config.Reward.LabellerFrames()!.Value;
            var key = $"{model}|{frames}";
            if (!_localImages.TryGetValue(key, out var rate)) _localImages[key] = rate = MeasureLocalImages(model, frames);
            return (rate, node?.Gpu is null ? $"{model} measured on this machine's CPU" : $"{model} measured on this machine's CPU (no GPU figure for it)");
        }
        if (tower is null) return (null, $"no figure for {GpuFigures.Architecture(model)}'s image tower (measured: {string.Join(", ", GpuFigures.H200Towers.Select(t => t.Architecture))})");
        _matmulGflops ??= MeasureMatmulGflops();
        return (_matmulGflops * tower.FractionOfMatmul / tower.GflopPerImage,
            $"estimate: this machine's fp32 matrix rate ({_matmulGflops:N0} GFLOP/s) × the {tower.FractionOfMatmul:P0} of it {tower.Architecture} reached on the H200");
    }

    private double VectorSteps(RunConfig config)
    {
        var frames = config.Reward.LabellerFrames();
        var key = $"{config.Env}|{config.NumEnvs}|{frames}|{RunConfigLoader.ToJson(config with { Seed = 0, TotalTimesteps = 0, Reward = new() })}";
        if (_vectorSteps.TryGetValue(key, out var rate)) return rate;
        using var env = RunFactory.MakeEnvironment(config, frames);
        return _vectorSteps[key] = new RandomRollout(env, (ulong)config.Seed).MeasureVectorStepsPerSecond(_budget, render: frames is not null);
    }

    /// <summary>Gradient steps/s of the run's algorithm and networks on this machine, and its networks' checkpoint bytes.</summary>
    private (double Rate, long NetworkBytes) Learner(RunConfig config, EnvSpec spec)
    {
        var key = $"{config.Algorithm}|{spec.ObservationSize}|{spec.ActionSize}|{RunConfigLoader.ToJson(config with { Seed = 0, TotalTimesteps = 0, Reward = new() })}";
        if (_learners.TryGetValue(key, out var known)) return known;
        torch.set_num_threads(config.TorchThreads > 0 ? config.TorchThreads : RunFactory.DefaultTorchThreads);
        using var algorithm = RunFactory.CreateAlgorithm(config, spec, torch.CPU);
        var rng = new Rng(1);
        var options = config.OffPolicy;
        var buffer = new ReplayBuffer(Math.Max(2 * options.BatchSize, 1024), spec.ObservationSize, spec.ActionSize);
        var (observation, next, action) = (new float[spec.ObservationSize], new float[spec.ObservationSize], new float[spec.ActionSize]);
        while (buffer.Count < buffer.Capacity)
        {
            for (var i = 0; i < observation.Length; i++) (observation[i], next[i]) = ((float)rng.Uniform(-1, 1), (float)rng.Uniform(-1, 1));
            algorithm.Act(observation, 1, action, Algorithms.ActMode.Random, 0, rng);
            buffer.Add(observation, action, (float)rng.Uniform(0, 1), next, terminated: false);
        }
        var warmUp = Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 300) algorithm.Train(buffer, 1, rng);
        var (steps, clock) = (0, Stopwatch.StartNew());
        while (steps < 2 || clock.Elapsed < _budget)
        {
            algorithm.Train(buffer, 1, rng);
            steps++;
        }
        var rate = steps / clock.Elapsed.TotalSeconds;
        using var networks = new MemoryStream();
        using (var writer = new BinaryWriter(networks, System.Text.Encoding.UTF8, leaveOpen: true)) algorithm.Save(writer);
        return _learners[key] = (rate, networks.Length);
    }

    private double MeasureLocalImages(string model, Labelling.FrameSize frames)
    {
        using var clipModel = OnnxClipModel.Load(model, clip);
        const int batch = 16;
        var pixels = new byte[batch * frames.Bytes];
        new Random(1).NextBytes(pixels);
        var embeddings = new float[batch * clipModel.EmbedDim];
        clipModel.EmbedImages(pixels, batch, frames.Height, frames.Width, embeddings);
        var (images, clock) = (0, Stopwatch.StartNew());
        while (images < 2 * batch || clock.Elapsed < _budget)
        {
            clipModel.EmbedImages(pixels, batch, frames.Height, frames.Width, embeddings);
            images += batch;
        }
        return images / clock.Elapsed.TotalSeconds;
    }

    /// <summary>This machine's fp32 matrix-product rate, the ceiling a tower that is not here is estimated against.</summary>
    private double MeasureMatmulGflops()
    {
        const int n = 512;
        using var a = torch.rand(n, n);
        using var b = torch.rand(n, n);
        using (torch.matmul(a, b))
        {
        }
        var (products, clock) = (0, Stopwatch.StartNew());
        while (products < 2 || clock.Elapsed < _budget)
        {
            using var c = torch.matmul(a, b);
            products++;
        }
        return products * 2.0 * n * n * n / clock.Elapsed.TotalSeconds / 1e9;
    }
}
