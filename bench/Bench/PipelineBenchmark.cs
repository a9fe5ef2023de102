using System.Diagnostics;
using TorchSharp;
using VlmRm.Clip.Models;
using VlmRm.Envs;
using VlmRm.Rl;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Bench;

/// <summary>
/// A CLIP-reward run end to end against each of its stages alone, measured in the same run with the same threads:
/// collection (policy, step, render), CLIP labelling, learner updates. Synchronous labelling sums the stages;
/// overlapped labelling runs CLIP beside collection and learning, so it approaches the slowest stage.
/// Two runs: cartpole-dqn-clip-quick (the shipped VlmRm-S-32 CLIP on 224² frames, B = 1024, DQN 128 updates every
/// 256 steps) and humanoid-sac-mini (the Table 1 miniature: VlmRm-S-32/envs-v4 on 224² MuJoCo frames, B = 400, SAC
/// 100 updates every 100 steps).
/// </summary>
internal static class PipelineBenchmark
{
    public static void RunCartPole() => Run("cartpole-dqn-clip-quick", measuredBatches: 4);

    /// <summary>
    /// The Humanoid miniature with learning starting after one batch instead of 5,000 steps: the timed batches come
    /// after learning starts either way, and the shorter warm-up saves minutes of 30 steps/s.
    /// </summary>
    public static void RunHumanoid() => Run("humanoid-sac-mini", measuredBatches: 2, config =>
    {
        var assets = PaperScaleBenchmark.PaperAssets;
        return config with
        {
            Sac = config.Sac! with { LearningStarts = RunFactory.LabelBatchSize(config) },
            EnvOptions = assets is null ? config.EnvOptions : config.EnvOptions with { AssetsDirectory = assets },
        };
    });

    private static void Run(string presetName, int measuredBatches, Func<RunConfig, RunConfig>? adjust = null)
    {
        var models = Path.GetFullPath(Path.Combine(RunConfigLoader.PresetsDirectory, "..", "models"));
        var preset = RunConfigLoader.LoadFile(presetName) with { TotalTimesteps = long.MaxValue, CheckpointInterval = 0 };
        preset = adjust?.Invoke(preset) ?? preset;
        var modelFolder = preset.Reward.Model!.Replace("/", "__", StringComparison.Ordinal);
        if (!Directory.Exists(Path.Combine(models, modelFolder)))
        {
            Console.WriteLine($"No {preset.Reward.Model} in {models}; the pipeline benchmark of {presetName} needs models/{modelFolder}.");
            return;
        }
        var b = RunFactory.LabelBatchSize(preset);
        var frames = preset.Reward.LabellerFrames()!.Value;
        // One core for CLIP, one for collection and learning: what overlapping can use on this 2-core machine.
        var clipOneThread = new ClipRuntimeOptions { ModelsDirectory = models, ExecutionProvider = ExecutionProviderChoice.Cpu, IntraOpThreads = 1, PreprocessThreads = 1 };
        var clipAllThreads = clipOneThread with { IntraOpThreads = Environment.ProcessorCount, PreprocessThreads = -1 };
        torch.set_num_threads(1);
        Console.WriteLine($"{presetName}: {preset.Env}{(preset.EnvOptions.AssetsDirectory is null ? "" : " (the paper's assets)")}, {ConfigSpelling.Of(preset.Algorithm)} (learning_starts {preset.OffPolicy.LearningStarts}, train_freq {preset.OffPolicy.TrainFreq}, gradient_steps {preset.OffPolicy.GradientSteps}), " +
            $"{preset.Reward.Model} on {frames.Width}×{frames.Height} frames, B = {b}; torch 1 thread; runs timed over {measuredBatches} batches after learning starts");
        Console.WriteLine();

        var collection = CollectionStepsPerSecond(preset, frames);
        var (labelling, labellingAllThreads) = (LabellingFramesPerSecond(preset, clipOneThread, frames), LabellingFramesPerSecond(preset, clipAllThreads, frames));
        var learner = LearnerStepsPerSecond(preset);
        var slowest = Math.Min(collection, Math.Min(labelling, learner));
        var synchronous = EndToEnd(preset, clipOneThread, preset.Reward, measuredBatches);
        var synchronousAllThreads = EndToEnd(preset, clipAllThreads, preset.Reward, measuredBatches);
        var overlapped = EndToEnd(preset, clipOneThread, preset.Reward with { Labelling = LabellingScheduleKind.Overlapped }, measuredBatches);
        var unlabelled = EndToEnd(preset, clipOneThread, new RewardSection(), measuredBatches);

        Console.WriteLine("| stage or run | threads | steps/s | vs slowest stage |");
        Console.WriteLine("|---|---|---:|---:|");
        Console.WriteLine($"| collection alone: policy, step, render {frames.Width}×{frames.Height} | 1 | {collection:F0} | {collection / slowest:F2}× |");
        Console.WriteLine($"| CLIP labelling alone (frames/s) | 1 ONNX | {labelling:F0} | {labelling / slowest:F2}× |");
        Console.WriteLine($"| CLIP labelling alone (frames/s) | {Environment.ProcessorCount} ONNX | {labellingAllThreads:F0} | {labellingAllThreads / slowest:F2}× |");
        Console.WriteLine($"| learner updates alone ({preset.OffPolicy.GradientSteps} per {preset.OffPolicy.TrainFreq * preset.NumEnvs} steps) | 1 torch | {learner:F0} | {learner / slowest:F2}× |");
        Console.WriteLine($"| **synchronous run** (the paper's order) | 1 ONNX + 1 torch | {synchronous:F0} | {synchronous / slowest:F2}× |");
        Console.WriteLine($"| synchronous run, CLIP on every core (the preset's default) | {Environment.ProcessorCount} ONNX + 1 torch | {synchronousAllThreads:F0} | {synchronousAllThreads / slowest:F2}× |");
        Console.WriteLine($"| **overlapped run** | 1 ONNX + 1 torch | {overlapped:F0} | {overlapped / slowest:F2}× |");
        Console.WriteLine($"| the run with no labelling at all (ground-truth reward, no frames rendered): collection + learning, the ceiling | 1 torch | {unlabelled:F0} | {unlabelled / slowest:F2}× |");
        Console.WriteLine();
        Console.WriteLine($"Overlapped / slowest stage: {overlapped / slowest:F2}× (target ≥ 0.80×); / the unlabelled ceiling: {overlapped / unlabelled:F2}×; " +
            $"/ synchronous: {overlapped / synchronous:F2}×; / best synchronous: {overlapped / Math.Max(synchronous, synchronousAllThreads):F2}×.");
    }

    /// <summary>What the trainer does per step besides labelling and learning: the policy's action, the step, the frame.</summary>
    private static double CollectionStepsPerSecond(RunConfig config, FrameSize frames)
    {
        using var env = RunFactory.MakeEnvironment(config, frames);
        using var algorithm = RunFactory.CreateAlgorithm(config, env.Spec, torch.CPU);
        var rng = new Rng(1);
        var bufferActions = new float[env.Count * env.Spec.ActionSize];
        var actions = new float[bufferActions.Length];
        var frame = new byte[env.Count * frames.Bytes];
        return Measure.OperationsPerSecond(() =>
        {
            algorithm.Act(env.Observations, env.Count, bufferActions, ActMode.Explore, 1_000_000, rng);
            algorithm.ToEnvironmentActions(bufferActions, actions);
            env.Step(actions, frame);
        }, seconds: 1.5) * env.Count;
    }

    private static double LabellingFramesPerSecond(RunConfig config, ClipRuntimeOptions clip, FrameSize frames)
    {
        var (labeller, model) = RewardLabellers.Create(config.Reward, clip);
        using var owned = model;
        var b = RunFactory.LabelBatchSize(config);
        using var env = RunFactory.MakeEnvironment(config, frames);
        var buffer = new UnlabelledBuffer(b, env.Spec.ObservationSize, env.Spec.ActionSize, frames);
        var frame = new byte[env.Count * frames.Bytes];
        var rng = new Rng(2);
        var (n, m) = (env.Spec.ObservationSize, env.Spec.ActionSize);
        var actions = new float[env.Count * m];
        while (buffer.Count < b)
        {
            for (var i = 0; i < env.Count; i++) env.Spec.ActionSpace.Sample(rng, actions.AsSpan(i * m, m));
            env.Step(actions, frame);
            for (var i = 0; i < env.Count; i++) buffer.Add(env.Observations.AsSpan(i * n, n), actions.AsSpan(i * m, m), env.Observations.AsSpan(i * n, n), false, false, 0, false, i, frame.AsSpan(i * frames.Bytes, frames.Bytes));
        }
        var rewards = new float[b];
        return Measure.OperationsPerSecond(() => labeller.LabelAsync(buffer.AsBatch(), rewards, null, CancellationToken.None).AsTask().GetAwaiter().GetResult(), seconds: 2, repeats: 3) * b;
    }

    /// <summary>
    /// Environment steps/s the learner alone could keep up with: a call of gradient_steps updates every train_freq
    /// vector steps, each of which is num_envs environment steps.
    /// </summary>
    private static double LearnerStepsPerSecond(RunConfig config)
    {
        using var env = RunFactory.MakeEnvironment(config, null);
        using var algorithm = RunFactory.CreateAlgorithm(config, env.Spec, torch.CPU);
        var spec = env.Spec;
        var replay = new ReplayBuffer(10_000, spec.ObservationSize, spec.ActionSize);
        var random = new Random(3);
        var rng = new Rng(4);
        var observation = new float[spec.ObservationSize];
        var next = new float[spec.ObservationSize];
        var action = new float[spec.ActionSize];
        for (var i = 0; i < 10_000; i++)
        {
            for (var j = 0; j < observation.Length; j++) (observation[j], next[j]) = ((float)random.NextDouble(), (float)random.NextDouble());
            spec.ActionSpace.Sample(rng, action);
            replay.Add(observation, action, (float)random.NextDouble(), next, random.Next(20) == 0);
        }
        return Measure.OperationsPerSecond(() => algorithm.Train(replay, config.OffPolicy.GradientSteps, rng), seconds: 2) * config.OffPolicy.TrainFreq * config.NumEnvs;
    }

    /// <summary>Algorithm 1 rewarded by <paramref name="reward"/>, timed over the same steps for every reward: <paramref name="measuredBatches"/> of the preset's B, once learning has started.</summary>
    private static double EndToEnd(RunConfig preset, ClipRuntimeOptions clip, RewardSection reward, int measuredBatches)
    {
        var config = preset with { Reward = reward };
        var b = RunFactory.LabelBatchSize(preset);
        var (labeller, model) = RewardLabellers.Create(config.Reward, clip);
        using var owned = model;
        using var trainer = new Algorithm1Trainer(config, labeller);
        var warm = (config.OffPolicy.LearningStarts / b + 2) * b;
        while (trainer.Timesteps < warm) trainer.StepAsync().GetAwaiter().GetResult();
        var clock = Stopwatch.StartNew();
        while (trainer.Timesteps < warm + measuredBatches * b) trainer.StepAsync().GetAwaiter().GetResult();
        return measuredBatches * b / clock.Elapsed.TotalSeconds;
    }
}
