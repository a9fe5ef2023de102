using TorchSharp;
using VlmRm.Envs;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl;

/// <summary>
/// How a run is built from its configuration, for the trainer, the grains and evaluation alike: its environment
/// copies, its algorithm on its device, and the size of Algorithm 1's unlabelled buffer B.
/// </summary>
public static class RunFactory
{
    /// <summary>Transitions B holds at most: whole vectorized steps, so the labelling batch rounded up to a multiple of the copies.</summary>
    public static int LabelBatchSize(RunConfig config) => checked((config.Reward.BatchSize + config.NumEnvs - 1) / config.NumEnvs * config.NumEnvs);

    /// <summary>Algorithm 1's labelling schedule for the run (reward.labelling), with its unlabelled buffers B.</summary>
    public static ILabellingSchedule CreateLabellingSchedule(RunConfig config, IRewardLabeller labeller, EnvSpec spec)
    {
        UnlabelledBuffer NewBuffer() => new(LabelBatchSize(config), spec.ObservationSize, spec.ActionSize, labeller.Frames);
        var keep = config.Reward.KeepEmbeddings;
        return config.Reward.Labelling == LabellingScheduleKind.Overlapped ? new OverlappedLabelling(labeller, NewBuffer, keep) : new SynchronousLabelling(labeller, NewBuffer(), keep);
    }

    /// <summary>The run's environment copies in this process, reset, rendering at <paramref name="frames"/> when the labeller needs pixels.</summary>
    public static VectorEnv MakeEnvironment(RunConfig config, FrameSize? frames)
    {
        var env = EnvRegistry.MakeVector(config.Env, config.NumEnvs, config.Seed, config.EnvironmentOptions(frames));
        env.Reset();
        return env;
    }

    /// <summary>TorchSharp threads when the configuration names none: one per core (2 threads: SAC updates 1.5× faster than 1; docs/BENCHMARKS.md).</summary>
    public static int DefaultTorchThreads => Environment.ProcessorCount;

    public static IOffPolicyAlgorithm CreateAlgorithm(RunConfig config, EnvSpec spec, torch.Device device) => config.Algorithm switch
    {
        AlgorithmKind.Sac => new Sac(config.Sac ?? new SacOptions(), spec.ObservationSize,
            spec.ActionSpace as BoxSpace ?? throw new ArgumentException($"SAC needs a continuous action space; {spec.Id} has {spec.ActionSpace}."), config.TotalTimesteps, device, config.Seed),
        AlgorithmKind.Dqn => new Dqn(config.Dqn ?? new DqnOptions(), spec.ObservationSize,
            spec.ActionSpace as DiscreteSpace ?? throw new ArgumentException($"DQN needs a discrete action space; {spec.Id} has {spec.ActionSpace}."), config.TotalTimesteps, device, config.Seed),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Algorithm, "no such algorithm"),
    };

    public static torch.Device SelectDevice(DeviceChoice choice) => choice switch
    {
        DeviceChoice.Cpu => torch.CPU,
        DeviceChoice.Cuda when !torch.cuda.is_available() => throw new InvalidOperationException("device: cuda was asked for, but TorchSharp sees no CUDA device (the CPU package is installed; see docs/RL.md)."),
        DeviceChoice.Cuda => torch.CUDA,
        _ => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
    };
}
