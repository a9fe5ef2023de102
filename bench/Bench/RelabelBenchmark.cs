using System.Diagnostics;
using System.Runtime.InteropServices;
using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Planning;

namespace VlmRm.Bench;

/// <summary>
/// Re-rewarding stored transitions (vlmrm relabel): 1M transitions with ViT-bigG-14's 1,280-value embeddings (fp16,
/// 2.56 GB) re-scored with Eq. 2–3, against the reference measured in the same run: one pass reading the same bytes
/// (the memory-bandwidth floor any re-scoring pays). And what it replaces: the image tower on the same frames.
/// </summary>
internal static class RelabelBenchmark
{
    private const int Transitions = 1_000_000;
    private const int Width = 1280;

    public static void Run()
    {
        var rng = new Rng(7);
        // A pool of random rows, cycled: filling 1.28G values one random draw at a time would dominate the bench.
        var pool = new Half[4096 * Width];
        for (var i = 0; i < pool.Length; i++) pool[i] = (Half)rng.Uniform(-1, 1);
        var buffer = new ReplayBuffer(Transitions, observationSize: 4, actionSize: 1);
        var observation = new float[4];
        for (var i = 0; i < Transitions; i++) buffer.Add(observation, [0f], 0f, observation, terminated: false, pool.AsSpan(i % 4096 * Width, Width), success: false);

        var goal = new float[Width];
        var baseline = new float[Width];
        for (var i = 0; i < Width; i++) (goal[i], baseline[i]) = ((float)rng.Uniform(-1, 1), (float)rng.Uniform(-1, 1));
        var reward = new ClipReward(goal, baseline, alpha: 0.5f);
        buffer.Relabel(reward); // warm-up: JIT and page faults
        var relabel = Median(() => buffer.Relabel(reward));

        // The reference: read the same 2.56 GB once on all cores (sum of the raw 16-bit words).
        var copy = new Half[(long)Transitions * Width];
        for (var i = 0; i < Transitions; i++) pool.AsSpan(i % 4096 * Width, Width).CopyTo(copy.AsSpan(i * Width, Width));
        long checksum = 0;
        var read = Median(() => checksum += ReadAll(copy));

        var bytes = (double)Transitions * Width * sizeof(short);
        var bigG = GpuFigures.Tower("ViT-bigG-14")!;
        var towerSeconds = Transitions / bigG.ImagesPerSecond;
        Console.WriteLine($"| what | seconds | GB/s of stored embeddings | vs reading them once |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| re-reward 1M × 1,280 fp16 (Eq. 2–3, {Environment.ProcessorCount} cores) | {relabel:F2} | {bytes / relabel / 1e9:F1} | {read / relabel:F2}× |");
        Console.WriteLine($"| reference: read the same {bytes / 1e9:F2} GB once | {read:F2} | {bytes / read / 1e9:F1} | 1.00× |");
        Console.WriteLine();
        Console.WriteLine($"Labelling the same 1M frames with ViT-bigG-14's image tower on an H200 (514 images/s measured): {towerSeconds / 60:F1} min = {towerSeconds / 3600:F2} GPU-hours, " +
                          $"{towerSeconds / relabel:N0}× the re-reward here. The paper's 10M-frame Humanoid run: {10 * towerSeconds / 3600:F1} GPU-hours saved per re-rewarded run " +
                          $"(checksum {checksum % 10}).");
    }

    private static long ReadAll(Half[] values)
    {
        long length = values.Length;
        var parts = Environment.ProcessorCount;
        var sums = new long[parts];
        Parallel.For(0, parts, p =>
        {
            var (from, to) = ((int)(length * p / parts), (int)(length * (p + 1) / parts));
            var slice = MemoryMarshal.Cast<Half, ushort>(values.AsSpan(from, to - from));
            var vectors = MemoryMarshal.Cast<ushort, System.Numerics.Vector<ushort>>(slice);
            var total = System.Numerics.Vector<ushort>.Zero;
            foreach (var v in vectors) total ^= v;
            sums[p] = System.Numerics.Vector.Sum(total);
        });
        return sums.Sum();
    }

    private static double Median(Action action)
    {
        var times = new double[3];
        for (var i = 0; i < times.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[1];
    }
}
