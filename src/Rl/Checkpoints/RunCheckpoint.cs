using VlmRm.Envs;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Checkpoints;

/// <summary>Where a run stood when it was checkpointed.</summary>
public readonly record struct RunCounters(long Timesteps, long VectorSteps, long LastCheckpoint, double BestTrainingReward);

/// <summary>What a run checkpoint holds besides its counters: the parts a resumed run restores in place.</summary>
public sealed record RunParts(Rng Rng, IOffPolicyAlgorithm Algorithm, EpisodeStatistics Statistics, double[] LabelledEpisodeReturns, ReplayBuffer Replay);

/// <summary>
/// The run checkpoint format, in one place: a header naming the run's shape (environment, algorithm, copies) and its
/// whole configuration (JSON), its counters, the RNG, the algorithm (networks and optimizers), the environment copies' state (a length-prefixed
/// block, so copies stepped in another process can supply it), episode statistics, the labelled returns of episodes
/// in flight and, when the run keeps it, the replay buffer (with its frames' embeddings when the run keeps those). Everything a resumed run needs to continue the same
/// curve; <see cref="LoadPolicy"/> reads only as far as the policy.
/// </summary>
public static class RunCheckpoint
{
    // 2: the environments' state is a length-prefixed block. 3: optimizer state written by AdamOptimizer.
    // 4: the run's configuration in the header, the replay buffer's embeddings block. Format 3 still reads.
    private const int Format = 4;
    private const int OldestReadable = 3;
    private const string Magic = "VLMRMCK1";

    public static void Write(Stream destination, RunConfig config, RunCounters counters, RunParts parts, byte[] environmentState)
    {
        using var writer = new BinaryWriter(destination, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Format);
        writer.Write(config.Env);
        writer.Write(ConfigSpelling.Of(config.Algorithm));
        writer.Write(config.NumEnvs);
        writer.Write(RunConfigLoader.ToJson(config));
        writer.Write(counters.Timesteps);
        writer.Write(counters.VectorSteps);
        writer.Write(counters.LastCheckpoint);
        writer.Write(counters.BestTrainingReward);
        parts.Rng.Write(writer);
        parts.Algorithm.Save(writer);
        writer.Write(environmentState.Length);
        writer.Write(environmentState);
        parts.Statistics.Save(writer);
        foreach (var r in parts.LabelledEpisodeReturns) writer.Write(r);
        writer.Write(config.CheckpointReplayBuffer);
        if (config.CheckpointReplayBuffer) parts.Replay.Save(writer);
    }

    /// <summary>Restores <paramref name="parts"/> in place from <paramref name="content"/>'s position; returns the counters and the environments' state.</summary>
    /// <param name="source">How errors name the checkpoint (e.g. "Checkpoint of run X").</param>
    public static (RunCounters Counters, byte[] EnvironmentState) Read(Stream content, RunConfig config, RunParts parts, string source)
    {
        using var reader = new BinaryReader(content, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            var (counters, format) = ReadThroughPolicy(reader, config, parts.Rng, parts.Algorithm);
            var environmentBytes = reader.ReadInt32();
            var environmentState = reader.ReadBytes(environmentBytes);
            if (environmentState.Length != environmentBytes) throw new EndOfStreamException();
            parts.Statistics.Load(reader);
            for (var i = 0; i < parts.LabelledEpisodeReturns.Length; i++) parts.LabelledEpisodeReturns[i] = reader.ReadDouble();
            if (reader.ReadBoolean()) parts.Replay.Load(reader, withEmbeddings: format >= 4);
            return (counters, environmentState);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{source} ends early: it is truncated.", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source} cannot be restored: {e.Message}", e);
        }
    }

    /// <summary>
    /// The policy alone from a checkpoint of a run with this configuration, without the environments and the
    /// replay buffer a resumed run needs (rollout videos, evaluation of old checkpoints).
    /// </summary>
    public static IOffPolicyAlgorithm LoadPolicy(RunConfig config, EnvSpec spec, Stream content)
    {
        var algorithm = RunFactory.CreateAlgorithm(config, spec, RunFactory.SelectDevice(config.Device));
        try
        {
            using var reader = new BinaryReader(content, System.Text.Encoding.UTF8, leaveOpen: true);
            ReadThroughPolicy(reader, config, new Rng(0), algorithm);
            return algorithm;
        }
        catch (Exception e)
        {
            algorithm.Dispose();
            if (e is EndOfStreamException) throw new InvalidDataException("Checkpoint ends early: it is truncated.", e);
            throw;
        }
    }

    /// <summary>
    /// The configuration the checkpoint's run was trained with (format 4 on); null for an older checkpoint, which does not
    /// record it. Leaves <paramref name="content"/> where it was.
    /// </summary>
    public static RunConfig? ReadConfig(Stream content, string source)
    {
        var start = content.Position;
        try
        {
            using var reader = new BinaryReader(content, System.Text.Encoding.UTF8, leaveOpen: true);
            var format = ReadFormat(reader);
            _ = (reader.ReadString(), reader.ReadString(), reader.ReadInt32());
            return format >= 4 ? RunConfigLoader.FromJson(reader.ReadString(), source) : null;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{source} ends early: it is truncated.", e);
        }
        finally
        {
            content.Position = start;
        }
    }

    private static int ReadFormat(BinaryReader reader)
    {
        if (reader.ReadString() != Magic) throw new InvalidDataException("not a VlmRm checkpoint");
        var format = reader.ReadInt32();
        if (format is < OldestReadable or > Format) throw new InvalidDataException($"checkpoint format {format}, this build reads {OldestReadable} to {Format}");
        return format;
    }

    private static (RunCounters Counters, int Format) ReadThroughPolicy(BinaryReader reader, RunConfig config, Rng rng, IOffPolicyAlgorithm algorithm)
    {
        var format = ReadFormat(reader);
        var (env, algorithmName, copies) = (reader.ReadString(), reader.ReadString(), reader.ReadInt32());
        if (env != config.Env || algorithmName != ConfigSpelling.Of(config.Algorithm) || copies != config.NumEnvs)
        {
            throw new InvalidDataException($"checkpoint is for {algorithmName} on {copies}×{env}, this run is {ConfigSpelling.Of(config.Algorithm)} on {config.NumEnvs}×{config.Env}");
        }
        if (format >= 4) reader.ReadString(); // the configuration: the run restoring it brings its own, checked above by shape
        var counters = new RunCounters(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadDouble());
        rng.Read(reader);
        algorithm.Load(reader);
        return (counters, format);
    }
}
