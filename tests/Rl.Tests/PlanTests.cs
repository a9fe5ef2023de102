using System.Text.Json;
using VlmRm.Clip.Export;
using VlmRm.Rl.Planning;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Rl.Tests;

/// <summary><c>vlmrm plan</c>'s arithmetic, its measured rates and the figures it cites.</summary>
public sealed class PlanTests
{
    /// <summary>
    /// The paper's Humanoid run (appendix C.2) on one H200, worked out by hand: 10M steps of 32 copies is 312,500 vector
    /// steps and 10M frames; training rounds at every 100th vector step past learning_starts (v·32 &gt; 50,000, so
    /// v = 1,600 … 312,500: 3,110 rounds of 100 updates); a checkpoint every 128,000 steps (78) and at the end.
    /// </summary>
    [Fact]
    public void The_papers_humanoid_run_costs_what_a_hand_calculation_says()
    {
        var config = RunConfigLoader.LoadFile("humanoid-sac");
        var memory = RunPlan.For(config, "humanoid-sac");
        var transition = (2L * memory.Env.ObservationSize + memory.Env.ActionSize + 2) * sizeof(float); // 3,084 bytes on the paper's model
        const long networks = 1_000_000;
        var shape = new RunShape(memory, networks, EmbedWidth: 1280, GflopPerImage: 967.49);
        var node = GpuFigures.Node("nvidia-h200");
        var imagesPerSecond = GpuFigures.ImagesPerSecond(GpuFigures.Tower("ViT-bigG-14/laion2b_s39b_b160k")!, node);
        Assert.Equal(513.74, imagesPerSecond, 2);
        var rates = new RunRates(VectorStepsPerSecond: 10, GradientStepsPerSecond: 100, imagesPerSecond, "H200");

        var cost = RunCost.For(config, shape, rates, node, pricePerHour: 10);

        Assert.Equal((10_000_000L, 312_500L, 10_000_000L), (cost.EnvSteps, cost.VectorSteps, cost.Frames));
        Assert.Equal(9.6749e9, cost.ImageTowerGflop!.Value, 1e3); // 10M frames × 967.49 GFLOP: 9.7 ZFLOP
        Assert.Equal(311_000, cost.LearnerUpdates);
        Assert.Equal(1_000_000 * transition, cost.ReplayBytes);
        Assert.Equal(3200L * 480 * 480 * 3, cost.FrameBufferBytes); // B = 3200 frames of 480², 2.21 GB
        Assert.Equal(1_000_000L * 1280 * 2, cost.EmbeddingBytes); // 2.56 GB of fp16 beside 1M transitions
        Assert.Equal(10_000_000L * 1280 * 2, cost.EmbeddingLogBytes); // 25.6 GB for every labelled frame
        Assert.Equal(79, cost.CheckpointsWritten);
        Assert.Equal(networks + 1_000_000 * transition, cost.LargestCheckpointBytes);
        Assert.Equal(4 * (networks + 1_000_000 * transition), cost.CheckpointBytesKept); // keep_checkpoints 3 and the best
        // The checkpoint at step k·128,000 holds min(k·128,000, 1M) transitions: 7 checkpoints below 1M, then full ones.
        var written = Enumerable.Range(1, 78).Sum(k => networks + Math.Min(k * 128_000L, 1_000_000) * transition) + networks + 1_000_000 * transition;
        Assert.Equal(written, cost.CheckpointBytesWritten);
        Assert.Equal(31_250, cost.EnvironmentSeconds, 6);
        Assert.Equal(3_110, cost.LearnerSeconds, 6);
        Assert.Equal(10_000_000 / 513.74, cost.LabellingSeconds!.Value, 0);
        Assert.Equal(31_250 + 3_110 + 10_000_000 / 513.74, cost.WallSeconds!.Value, 0); // synchronous labelling: the parts add
        Assert.Equal(5.407, cost.GpuHours!.Value, 3); // docs/BENCHMARKS.md: 5.41 H200-hours
        Assert.Equal(54.07, cost.GpuCost!.Value, 2);
    }

    [Fact]
    public void The_plans_tower_figures_are_the_measured_ones()
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "docs", "measurements", "gpu-towers-h200.json");
        using var measured = JsonDocument.Parse(File.ReadAllBytes(path));
        var towers = measured.RootElement.GetProperty("towers").EnumerateArray().ToList();
        Assert.Equal(towers.Count, GpuFigures.H200Towers.Count);
        foreach (var tower in towers)
        {
            var figure = GpuFigures.Tower(tower.GetProperty("model").GetString()!)!;
            Assert.Equal(tower.GetProperty("gflop_per_image").GetDouble(), figure.GflopPerImage, 0.01);
            Assert.Equal(1, figure.ImagesPerSecond / tower.GetProperty("images_per_s").GetDouble(), 3);
            Assert.Equal(tower.GetProperty("fraction_of_bf16_matmul").GetDouble(), figure.FractionOfMatmul, 3);
        }
        // The ViT FLOP formula against PyTorch's FLOP counter on the real graphs (measured without the final projection,
        // 2·width·embed FLOPs: 0.0008 GFLOP of ViT-B-32's 8.82).
        var vitL14 = new ClipArchitecture { ImageSize = 224, PatchSize = 14, VisionWidth = 1024, VisionLayers = 24, VisionHeads = 16, EmbedDim = 768 };
        foreach (var (architecture, name) in new[] { (ClipArchitecture.VitB32, "ViT-B-32"), (vitL14, "ViT-L-14") })
        {
            var counted = towers.Single(t => t.GetProperty("model").GetString() == name).GetProperty("gflop_per_image").GetDouble();
            Assert.InRange(architecture.ImageTowerGflop / counted, 1, 1.0001);
        }
    }

    [Fact]
    public void A_sweep_is_planned_from_rates_measured_here_and_its_plan_file_reads_back()
    {
        var path = Path.Combine(RunConfigLoader.PresetsDirectory, "..", "sweeps", "reproduction-cartpole.yaml");
        var planner = new SweepPlanner(ShippedClip.Runtime, GpuFigures.Node("Standard_NC4as_T4_v3"), budget: TimeSpan.FromMilliseconds(200));
        var runs = SweepSpec.LoadFile(path).Expand(path).Select(planner.Plan).ToList();
        var run = runs[0];
        Assert.True(run.Rates.VectorStepsPerSecond > 0 && run.Rates.GradientStepsPerSecond > 0 && run.Rates.ImagesPerSecond > 0, $"{run.Rates}");
        // The shipped model has no GPU figure: its labelling is timed at the CPU rate measured here, and said so.
        Assert.Contains("measured on this machine's CPU", run.Rates.ImagesSource);
        Assert.Equal(60_000, run.Cost.Frames);
        Assert.Equal(60_000 * 64 * 2, run.Cost.EmbeddingLogBytes);
        Assert.True(run.Cost.ImageTowerGflop > 0 && run.Shape.NetworkBytes > 0);
        Assert.Equal(run.Cost.EnvironmentSeconds + run.Cost.LearnerSeconds + run.Cost.LabellingSeconds!.Value, run.Cost.WallSeconds!.Value, 6);
        Assert.Equal(run.Cost.GpuHours!.Value * 0.53, run.Cost.GpuCost!.Value, 9);

        var file = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-plan-").FullName, SweepPlanFile.Name);
        SweepPlanFile.Write(file, "repro-cartpole", "Standard_NC4as_T4_v3", runs);
        var read = SweepPlanFile.Read(file)!;
        Assert.Equal(runs.Select(r => r.Run.RunId), read.Runs.Select(r => r.RunId));
        Assert.Equal(run.Cost, read.Runs[0].Cost);
    }

    /// <summary>
    /// A model whose head sits on a locked pretrained tower is planned at the tower's compute, which its training.json
    /// records (ResNet18's 1.814 G multiply-adds plus the head), not at the small ViT its recipe's size names.
    /// </summary>
    [Fact]
    public void A_head_on_a_locked_pretrained_tower_is_planned_at_the_towers_flops()
    {
        var path = Path.Combine(RunConfigLoader.PresetsDirectory, "..", "sweeps", "reproduction-cartpole.yaml");
        var cartPole = SweepSpec.LoadFile(path).Expand(path)[0];
        var resNet = cartPole with { Config = cartPole.Config with { Reward = cartPole.Config.Reward with { Model = "VlmRm-ResNet18-MiniLM/envs-v4" } } };
        var run = new SweepPlanner(ShippedClip.Runtime, node: null, budget: TimeSpan.FromMilliseconds(200)).Plan(resNet);
        var head = 2.0 * (512 * 512 + 512 * 384) / 1e9;
        Assert.Equal(Clip.Models.PretrainedImageTowers.ResNet18.GflopPerImage + head, run.Shape.GflopPerImage!.Value, 9);
        Assert.Equal(run.Cost.Frames * run.Shape.GflopPerImage.Value, run.Cost.ImageTowerGflop!.Value, 3);
        Assert.True(run.Rates.ImagesPerSecond > 0, $"{run.Rates}");
    }

    /// <summary>
    /// sweeps/humanoid-table1.yaml: the paper's eight Humanoid tasks, each run testing its own pose with its own Table 3
    /// prompt; the miniature preset and, with the one line changed, the paper's, both sized by the planner.
    /// </summary>
    [Fact]
    public void The_table1_sweep_runs_the_eight_tasks_in_miniature_and_one_line_away_at_the_papers_scale()
    {
        var path = Path.Combine(RunConfigLoader.PresetsDirectory, "..", "sweeps", "humanoid-table1.yaml");
        var spec = SweepSpec.LoadFile(path);
        var miniature = spec.Expand(path);
        Assert.Equal(8 * 3, miniature.Count);
        var goals = Clip.Reward.PaperPrompts.Table3.Skip(2).Select(t => t.Prompts.Goal[0]).ToList(); // the eight Humanoid tasks
        Assert.Equal(goals, miniature.Where(r => r.Seed == 0).Select(r => r.Config.Reward.Goal.Single()));
        Assert.Equal(Enum.GetValues<Envs.Mujoco.HumanoidPose>(), miniature.Where(r => r.Seed == 0).Select(r => r.Config.EnvOptions.SuccessPose!.Value));
        Assert.All(miniature, r => Assert.Equal(["a humanoid robot"], r.Config.Reward.Baseline));

        var small = miniature[0].Config;
        var smallCost = RunCost.For(small, new RunShape(RunPlan.For(small, "mini"), 1_000_000, 64, TrainedSmallGflop), new RunRates(40, 300, 1_000, "measured here"), null);
        Assert.Equal(100_000, smallCost.Frames);
        Assert.Equal(100_000 * TrainedSmallGflop, smallCost.ImageTowerGflop!.Value, 1e-6);
        Assert.Equal(400L * 224 * 224 * 3, smallCost.FrameBufferBytes);

        var paper = (spec with { Preset = "humanoid-sac" }).Expand(path);
        Assert.All(paper, r => Assert.Equal("ViT-bigG-14/laion2b_s39b_b160k", r.Config.Reward.Model));
        var big = paper[0].Config;
        var node = GpuFigures.Node("nvidia-h200");
        var tower = GpuFigures.Tower("ViT-bigG-14/laion2b_s39b_b160k")!;
        var bigCost = RunCost.For(big, new RunShape(RunPlan.For(big, "paper"), 1_000_000, 1280, tower.GflopPerImage), new RunRates(10, 100, GpuFigures.ImagesPerSecond(tower, node), "H200"), node);
        Assert.Equal(10_000_000, bigCost.Frames);
        Assert.Equal(10_000_000 * tower.GflopPerImage, bigCost.ImageTowerGflop!.Value, 1e3);
        Assert.Equal(3200L * 480 * 480 * 3, bigCost.FrameBufferBytes);
        Assert.True(bigCost.ReplayBytes > 1_000_000_000, $"{bigCost.ReplayBytes} bytes of replay");
    }

    /// <summary>VlmRm-S-32's image tower (ClipArchitecture.ImageTowerGflop of the small size): 0.036 GFLOP per frame.</summary>
    private const double TrainedSmallGflop = 0.035982336;

    [Fact]
    public void Unknown_node_types_and_models_are_named_with_the_known_ones()
    {
        var node = Assert.Throws<ArgumentException>(() => GpuFigures.Node("p5.48xlarge"));
        Assert.Contains("Unknown node type 'p5.48xlarge'. Known: nvidia-h200, Standard_NC24ads_A100_v4, Standard_NC4as_T4_v3", node.Message);

        var config = RunConfigLoader.LoadFile("cartpole-dqn-clip-quick");
        var run = new SweepRun("x", "cartpole", "ViT-Q-99/nowhere", 0, 0, config with { Reward = config.Reward with { Model = "ViT-Q-99/nowhere" } });
        var model = Assert.Throws<ArgumentException>(() => new SweepPlanner(ShippedClip.Runtime, null, budget: TimeSpan.FromMilliseconds(50)).Plan(run));
        Assert.Contains("CLIP model 'ViT-Q-99/nowhere' is neither in", model.Message);
        Assert.Contains("ViT-bigG-14/laion2b_s39b_b160k", model.Message);

        var damaged = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-plan-").FullName, SweepPlanFile.Name);
        File.WriteAllText(damaged, "{ \"sweep\": ");
        Assert.Contains("is not a plan vlmrm plan wrote", Assert.Throws<InvalidDataException>(() => SweepPlanFile.Read(damaged)).Message);
    }
}
