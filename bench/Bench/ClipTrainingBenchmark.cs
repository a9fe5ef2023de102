using System.Diagnostics;
using TorchSharp;
using VlmRm.Clip.Models;
using VlmRm.Clip.Tokenization;
using VlmRm.ClipTraining;
using VlmRm.ClipTraining.Model;
using VlmRm.Envs;
using VlmRm.Rl;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using static TorchSharp.torch;

namespace VlmRm.Bench;

/// <summary>
/// VlmRm's own CLIP: training pairs/s of <see cref="ClipTrainer"/> (rendering, captions, tokenizing and
/// preprocessing included) against a bare TorchSharp loop doing the same forward, loss and AdamW step on
/// one of the trainer's batches held as tensors (the same AdamOptimizer); and the shipped model's labelled frames/s inside Algorithm 1 against the environment's
/// render-only frames/s.
/// </summary>
internal static class ClipTrainingBenchmark
{
    private const int Batch = 128;

    /// <summary>Trainer and bare loop alternate this many times; each side's best round counts (interference only slows a round).</summary>
    private const int Rounds = 3;

    public static void Run()
    {
        var tokenizer = Path.Combine(AppContext.BaseDirectory, ClipTokenizer.MergesFileName);
        Console.WriteLine($"| size | parameters | trainer pairs/s | bare TorchSharp pairs/s | trainer / bare |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var size in new[] { "small", "medium", "large" })
        {
            var options = new ClipTrainingOptions { Size = size, Envs = ["CartPole", "MountainCar", "MountainCarTextured"], BatchSize = Batch, Steps = int.MaxValue, WarmupSteps = 1 };
            var work = Directory.CreateTempSubdirectory("vlmrm-bench-clip-").FullName;
            using var trainer = new ClipTrainer(options, work, tokenizer);
            var steps = size == "large" ? 4 : 8;
            var (library, bare) = (0.0, 0.0);
            for (var round = 0; round < Rounds; round++)
            {
                library = Math.Max(library, PairsPerSecond(() => trainer.TrainStep(), steps));
                bare = Math.Max(bare, Bare(trainer, steps));
            }
            var parameters = trainer.Model.parameters().Sum(p => p.numel());
            Console.WriteLine($"| {size} | {parameters:N0} | {library:F0} | {bare:F0} | {library / bare:F2}× |");
            Directory.Delete(work, recursive: true);
        }
        Console.WriteLine();
        Console.WriteLine("Bare loop: the same ClipModule, loss (ClipTrainer.ContrastiveLoss) and AdamW step, repeated on one batch the trainer drew, held as tensors (no rendering, captions, tokenizing or preprocessing).");
        Console.WriteLine($"Each side: the best of {Rounds} alternating rounds of 8 steps (4 for large), after a warm-up step.");
        Console.WriteLine();
        AlgorithmOneLabelling();
    }

    private static double PairsPerSecond(Action step, int steps)
    {
        step();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) step();
        return steps * Batch / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The trainer's own forward, loss and optimizer step, on one batch the trainer drew, held as tensors.</summary>
    private static double Bare(ClipTrainer trainer, int steps)
    {
        var model = trainer.Model;
        using var optimizer = new AdamOptimizer(model.parameters().Where(p => p.requires_grad), 1e-4, weightDecay: 0.05); // the trainer's optimizer
        using var batch = trainer.BatchTensors(trainer.Step);
        void Step()
        {
            using var scope = NewDisposeScope();
            var loss = ClipTrainer.ContrastiveLoss(model, batch, offSceneWeight: 0);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            loss.item<float>();
        }
        return PairsPerSecond(Step, steps);
    }

    /// <summary>Algorithm 1 with the shipped CLIP labelling every frame (no learning yet) against rendering alone.</summary>
    private static void AlgorithmOneLabelling()
    {
        var models = Path.GetFullPath(Path.Combine(RunConfigLoader.PresetsDirectory, "..", "models")); // the models VlmRm ships
        var runtime = new ClipRuntimeOptions { ModelsDirectory = models, ExecutionProvider = ExecutionProviderChoice.Cpu };
        var registry = new ClipModelRegistry(runtime);
        if (registry.Available().Count == 0)
        {
            Console.WriteLine($"No model in {models}: train one with ./vlmrm clip train.");
            return;
        }
        var config = RunConfigLoader.LoadFile("cartpole-dqn-clip-quick") with { TotalTimesteps = long.MaxValue };
        config = config with { Dqn = config.Dqn! with { LearningStarts = int.MaxValue } };
        var (labeller, model) = RewardLabellers.Create(config.Reward, runtime);
        using var _ = model;
        using var trainer = new Algorithm1Trainer(config, labeller);
        while (trainer.Timesteps < 2 * config.Reward.BatchSize) trainer.StepAsync().GetAwaiter().GetResult();
        var clock = Stopwatch.StartNew();
        var start = trainer.Timesteps;
        while (clock.Elapsed.TotalSeconds < 5) trainer.StepAsync().GetAwaiter().GetResult();
        var labelled = (trainer.Timesteps - start) / clock.Elapsed.TotalSeconds;

        using var env = EnvRegistry.Make("CartPole", new EnvOptions { RenderWidth = config.Reward.FrameWidth, RenderHeight = config.Reward.FrameHeight });
        var frame = new byte[env.Spec.FrameBytes];
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(0, observation);
        var render = Measure.OperationsPerSecond(() => env.Render(frame));
        Console.WriteLine($"Algorithm 1, CartPole, {model!.GetType().Name} {config.Reward.Model} labelling every frame in batches of {config.Reward.BatchSize} (no updates): " +
                          $"{labelled:N0} labelled steps/s; rendering alone {render:N0} frames/s at {config.Reward.FrameWidth}²; labelled / render-only = {labelled / render:F3}.");
    }
}
