using VlmRm.Envs;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Labelling;

namespace VlmRm.Rl.Presets;

/// <summary>
/// What a run will allocate and send, computed from its configuration and its environment's shapes without
/// allocating any of it: a preset at the paper's sizes is checked here, in a test, before a cluster is paid for.
/// </summary>
public sealed record RunPlan(
    EnvSpec Env,
    int LabelBatch,
    FrameChunkLayout? UnlabelledFrames,
    FrameChunkLayout? LabellingMessages,
    long ReplayBufferBytes,
    long CheckpointReplayBytes)
{
    /// <summary>
    /// The plan of <paramref name="config"/>; builds one environment copy with the run's settings (a wrong model
    /// path or asset folder fails here) and throws <see cref="InvalidDataException"/> naming the setting that does not fit.
    /// </summary>
    public static RunPlan For(RunConfig config, string source, long messageBytes = FrameChunks.DefaultMessageBytes)
    {
        var frames = config.Reward.LabellerFrames();
        EnvSpec spec;
        using (var env = EnvRegistry.Make(config.Env, config.EnvironmentOptions(frames))) spec = env.Spec;
        try
        {
            var batch = RunFactory.LabelBatchSize(config);
            FrameChunkLayout? unlabelled = frames is { } f ? new FrameChunkLayout(batch, f, FrameChunks.DefaultChunkBytes) : null;
            FrameChunkLayout? messages = frames is { } g ? new FrameChunkLayout(batch, g, messageBytes, alignment: config.NumEnvs) : null; // as the environment grain holds them
            var buffer = config.OffPolicy.BufferSize;
            ReplayBuffer.CheckShape(buffer, spec.ObservationSize, spec.ActionSize);
            var bufferBytes = ReplayBuffer.BytesFor(buffer, spec.ObservationSize, spec.ActionSize);
            return new RunPlan(spec, batch, unlabelled, messages, bufferBytes, config.CheckpointReplayBuffer ? bufferBytes : 0);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }
}
