using VlmRm.Rl.Buffers;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Planning;

/// <summary>What a run is made of, apart from its configuration: its memory plan, its networks and its image tower.</summary>
/// <param name="Memory">Its environment's shapes and buffers (<see cref="RunPlan"/>).</param>
/// <param name="NetworkBytes">Networks and optimizer state as a checkpoint stores them.</param>
/// <param name="EmbedWidth">The CLIP model's embedding width; null for a ground-truth run.</param>
/// <param name="GflopPerImage">The image tower's GFLOP per frame, when known.</param>
public sealed record RunShape(RunPlan Memory, long NetworkBytes, int? EmbedWidth, double? GflopPerImage);

/// <summary>How fast the run's parts go, each with where the figure comes from.</summary>
/// <param name="VectorStepsPerSecond">Steps of all copies at once, rendering the labeller's frames when it needs them.</param>
/// <param name="GradientStepsPerSecond">The learner's updates at the run's batch size and networks.</param>
/// <param name="ImagesPerSecond">The image tower's frames/s where it runs; null when nothing is known of it.</param>
public sealed record RunRates(double VectorStepsPerSecond, double GradientStepsPerSecond, double? ImagesPerSecond, string ImagesSource);

/// <summary>
/// A run's cost before it starts, from the same rules the trainer follows (Algorithm 1 in <see cref="Algorithm1Trainer"/>):
/// every transition's reached state is rendered and labelled once; a training round of gradient_steps updates runs every
/// train_freq vector steps once the run is past learning_starts; a checkpoint every checkpoint_interval steps and one at
/// the end, each holding the replay buffer as far as it is filled.
/// </summary>
public sealed record RunCost
{
    public required long EnvSteps { get; init; }
    public required long VectorSteps { get; init; }

    /// <summary>Frames rendered, which are the frames labelled (0 for a ground-truth run).</summary>
    public required long Frames { get; init; }

    public required double? ImageTowerGflop { get; init; }
    public required long LearnerUpdates { get; init; }
    public required long ReplayBytes { get; init; }

    /// <summary>The unlabelled buffer's frames (two buffers with overlapped labelling).</summary>
    public required long FrameBufferBytes { get; init; }

    /// <summary>fp16 image embeddings beside the replay buffer's transitions, when they are kept with them.</summary>
    public required long? EmbeddingBytes { get; init; }

    public required int CheckpointsWritten { get; init; }
    public required long LargestCheckpointBytes { get; init; }
    public required long CheckpointBytesWritten { get; init; }
    public required long CheckpointBytesKept { get; init; }

    /// <summary>Every labelled frame's fp16 embedding, when the run keeps an embedding log.</summary>
    public required long? EmbeddingLogBytes { get; init; }

    public required double EnvironmentSeconds { get; init; }
    public required double LearnerSeconds { get; init; }
    public required double? LabellingSeconds { get; init; }
    public required double? WallSeconds { get; init; }

    /// <summary>Image-tower time on the node's GPUs; null on a CPU-only plan.</summary>
    public required double? GpuHours { get; init; }

    /// <summary>The GPU-hours at the node's list price per GPU; null without a price.</summary>
    public required double? GpuCost { get; init; }

    public static RunCost For(RunConfig config, RunShape shape, RunRates rates, NodeType? node, double? pricePerHour = null)
    {
        var vectorSteps = (config.TotalTimesteps + config.NumEnvs - 1) / config.NumEnvs;
        var frameSize = config.Reward.LabellerFrames();
        var frames = frameSize is null ? 0 : config.TotalTimesteps;
        var options = config.OffPolicy;
        // Rounds at the vector steps v with v·N > learning_starts and v divisible by train_freq (StepAsync's condition).
        var lastBeforeLearning = options.LearningStarts / config.NumEnvs;
        var rounds = Math.Max(0, vectorSteps / options.TrainFreq - lastBeforeLearning / options.TrainFreq);
        var updates = rounds * options.GradientSteps;

        var transitionBytes = ReplayBuffer.BytesFor(1, shape.Memory.Env.ObservationSize, shape.Memory.Env.ActionSize);
        var checkpointSteps = CheckpointSteps(config);
        long CheckpointBytes(long step) => shape.NetworkBytes + (config.CheckpointReplayBuffer ? Math.Min(step, options.BufferSize) * transitionBytes : 0);
        var sizes = checkpointSteps.Select(CheckpointBytes).ToList();
        var kept = config.KeepCheckpoints <= 0 ? sizes.Sum() : sizes.OrderDescending().Take(config.KeepCheckpoints + 1).Sum();

        var environmentSeconds = vectorSteps / rates.VectorStepsPerSecond;
        var learnerSeconds = updates / rates.GradientStepsPerSecond;
        double? labellingSeconds = frames == 0 ? 0 : frames / rates.ImagesPerSecond;
        double? wall = labellingSeconds is not { } label ? null
            : config.Reward.Labelling == LabellingScheduleKind.Overlapped ? Math.Max(environmentSeconds + learnerSeconds, label)
            : environmentSeconds + learnerSeconds + label;
        double? gpuHours = node?.Gpu is null || frames == 0 ? null : labellingSeconds / 3600;
        var price = pricePerHour ?? node?.PricePerHour;
        var buffers = config.Reward.Labelling == LabellingScheduleKind.Overlapped ? 2 : 1;
        return new RunCost
        {
            EnvSteps = config.TotalTimesteps,
            VectorSteps = vectorSteps,
            Frames = frames,
            ImageTowerGflop = frames == 0 ? 0 : frames * shape.GflopPerImage,
            LearnerUpdates = updates,
            ReplayBytes = shape.Memory.ReplayBufferBytes,
            FrameBufferBytes = frameSize is { } f ? buffers * (long)shape.Memory.LabelBatch * f.Bytes : 0,
            EmbeddingBytes = shape.EmbedWidth is { } width ? (long)options.BufferSize * width * sizeof(short) : null,
            CheckpointsWritten = sizes.Count,
            LargestCheckpointBytes = sizes.Max(),
            CheckpointBytesWritten = sizes.Sum(),
            CheckpointBytesKept = kept,
            EmbeddingLogBytes = shape.EmbedWidth is { } w ? frames * w * sizeof(short) : null,
            EnvironmentSeconds = environmentSeconds,
            LearnerSeconds = learnerSeconds,
            LabellingSeconds = labellingSeconds,
            WallSeconds = wall,
            GpuHours = gpuHours,
            GpuCost = gpuHours is { } hours && price is { } p && node is { Gpus: > 0 } n ? hours * p / n.Gpus : null,
        };
    }

    /// <summary>The steps at which the run saves: each time checkpoint_interval steps have passed since the last one, and at its end.</summary>
    public static IReadOnlyList<long> CheckpointSteps(RunConfig config)
    {
        var steps = new List<long>();
        if (config.CheckpointInterval > 0)
        {
            long last = 0;
            for (var step = (long)config.NumEnvs; step <= config.TotalTimesteps; step += config.NumEnvs)
            {
                if (step - last < config.CheckpointInterval) continue;
                steps.Add(step);
                last = step;
            }
        }
        var end = (config.TotalTimesteps + config.NumEnvs - 1) / config.NumEnvs * config.NumEnvs;
        if (steps.Count == 0 || steps[^1] != end) steps.Add(end);
        return steps;
    }
}
