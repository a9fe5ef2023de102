using System.Diagnostics;
using VlmRm.Abstractions;
using VlmRm.Clip.Models;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Bench;

/// <summary>
/// The paper's Humanoid run (presets/humanoid-sac.yaml) at its real sizes, cut to two labelling batches: B = 3200
/// frames of 480² (2.2 GB) rendered by 32 copies and labelled through the embedded cluster, a checkpoint holding the
/// 1M-transition replay buffer written to the store, then read back and resumed in a fresh trainer for the second
/// batch. The preset's CLIP (ViT-bigG-14) is not on this machine: the shipped model labels instead, which changes
/// the labelling time, not the sizes. Reports the time of each phase, the checkpoint's size and this process's peak memory.
/// </summary>
internal static class PaperScaleBenchmark
{
    /// <summary>The paper's assets beside the checkout (../shared/assets/vlmrm, as CI has them), or null.</summary>
    public static string? PaperAssets =>
        Path.GetFullPath(Path.Combine(RunConfigLoader.PresetsDirectory, "..", "..", "shared", "assets", "vlmrm")) is var path && Directory.Exists(path) ? path : null;

    public static void Run()
    {
        var preset = RunConfigLoader.LoadFile("humanoid-sac");
        var model = new ClipModelRegistry(new ClipRuntimeOptions()).Available() is [var shipped, ..]
            ? shipped
            : throw new InvalidOperationException("No CLIP model in models/: the shipped one should be there (docs/CLIP.md).");
        var batch = preset.Reward.BatchSize;
        var assets = PaperAssets;
        var config = preset with
        {
            TotalTimesteps = batch,
            CheckpointInterval = batch,
            Reward = preset.Reward with { Model = model },
            EnvOptions = assets is null ? preset.EnvOptions : preset.EnvOptions with { AssetsDirectory = assets },
        };
        var plan = RunPlan.For(config, "humanoid-sac");
        Console.WriteLine($"humanoid-sac at its sizes: {config.NumEnvs} copies, B = {plan.LabelBatch} frames of {config.Reward.FrameWidth}² " +
                          $"({plan.UnlabelledFrames!.Value.TotalBytes / 1e9:F2} GB in {plan.UnlabelledFrames.Value.Chunks} chunks, {plan.LabellingMessages!.Value.Chunks} messages), " +
                          $"replay buffer {config.OffPolicy.BufferSize:N0} transitions ({plan.ReplayBufferBytes / 1e9:F2} GB), CLIP {model} standing in for {preset.Reward.Model}, " +
                          $"{(assets is not null ? "the paper's Humanoid model" : "Debian's humanoid (no ../shared/assets/vlmrm)")}.");

        var data = Directory.CreateTempSubdirectory("vlmrm-bench-paper-").FullName;
        const string runId = "paper-humanoid";
        var clock = Stopwatch.StartNew();
        var hosts = ClusterBenchmark.StartSilos(1, data);
        try
        {
            ClusterBenchmark.RunSweep(hosts[0], "paper", [new RunRequest(runId, RunConfigLoader.ToJson(config), "humanoid")]);
        }
        finally
        {
            ClusterBenchmark.StopSilos(hosts);
        }
        var cluster = clock.Elapsed;
        var store = new FileCheckpointStore(Path.Combine(data, "checkpoints"));
        var written = store.ListAsync(runId, CancellationToken.None).GetAwaiter().GetResult();
        var checkpoint = written.MaxBy(c => c.Timesteps) ?? throw new InvalidOperationException("The cluster run wrote no checkpoint.");

        clock.Restart();
        var resumedConfig = config with { TotalTimesteps = 2 * batch };
        var (labeller, clip) = RewardLabellers.Create(resumedConfig.Reward, new ClipRuntimeOptions());
        using (clip)
        using (var trainer = new Algorithm1Trainer(resumedConfig, labeller, runId, store))
        {
            if (!trainer.TryResumeAsync().GetAwaiter().GetResult()) throw new InvalidOperationException("The checkpoint did not load.");
            var resumedAt = trainer.Timesteps;
            var read = clock.Elapsed;
            trainer.RunAsync().GetAwaiter().GetResult();
            var final = store.ListAsync(runId, CancellationToken.None).GetAwaiter().GetResult().MaxBy(c => c.Timesteps)!;
            Console.WriteLine();
            Console.WriteLine("| phase | time | what |");
            Console.WriteLine("|---|---:|---|");
            Console.WriteLine($"| cluster run to step {checkpoint.Timesteps:N0} | {cluster.TotalSeconds:F0} s | render {batch:N0} frames, label them in the reward grain, write checkpoint {checkpoint.Name} ({checkpoint.Bytes / 1e9:F2} GB) |");
            Console.WriteLine($"| read back and restore | {read.TotalSeconds:F0} s | verify size and SHA-256, restore the trainer at step {resumedAt:N0} |");
            Console.WriteLine($"| resumed run to step {trainer.Timesteps:N0} | {(clock.Elapsed - read).TotalSeconds:F0} s | the second batch in this process, checkpoint {final.Name} ({final.Bytes / 1e9:F2} GB) |");
        }
        Console.WriteLine();
        Console.WriteLine($"Peak memory of this process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F1} GB: both phases ran in it, each with a {plan.ReplayBufferBytes / 1e9:F2} GB replay buffer " +
                          $"and {plan.UnlabelledFrames.Value.TotalBytes / 1e9:F2} GB of frames, 32 OSMesa contexts and the CLIP session.");
        Directory.Delete(data, recursive: true);
    }
}
