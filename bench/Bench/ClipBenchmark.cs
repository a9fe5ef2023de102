using VlmRm.Clip.Export;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Clip.Synthetic;
using VlmRm.Envs.ClassicControl;

namespace VlmRm.Bench;

/// <summary>
/// CLIP image tower throughput on a ViT-B/32-shaped model (random weights: same compute as the real
/// one). References measured in the same run: a bare InferenceSession.Run on pre-made tensors, a large
/// square MatMul in ONNX Runtime (fp32 and int8), and the CPU's own peaks from /proc/cpuinfo.
/// </summary>
internal static class ClipBenchmark
{
    public static void Run()
    {
        var tokenizer = FindTokenizerDirectory();
        var folder = Directory.CreateTempSubdirectory("vlmrm-bench-clip-").FullName;
        try
        {
            var config = ClipArchitecture.VitB32 with { TextWidth = 64, TextLayers = 1, TextHeads = 4 };
            var clock = Stopwatch.StartNew();
            var synthetic = SyntheticClip.Create(config, seed: 1);
            synthetic.WriteModelFolder(Path.Combine(folder, "ViT-B-32__bench"), "ViT-B-32/bench");
            var imagePath = Path.Combine(folder, "ViT-B-32__bench", "image.onnx");
            Console.WriteLine($"ViT-B/32-shaped image tower: {ImageTowerFlops(config) / 1e9:F2} GFLOP per image (built in {clock.Elapsed.TotalSeconds:F1} s)");
            Console.WriteLine();

            var options = new ClipRuntimeOptions { ModelsDirectory = folder, TokenizerDirectory = tokenizer, ExecutionProvider = ExecutionProviderChoice.Cpu, MaxImageBatch = 32 };
            using var model = OnnxClipModel.Load("ViT-B-32/bench", options);
            const int batch = 32;
            var native = CartPoleFrames(batch, 600, 400);
            var small = CartPoleFrames(batch, 224, 224);
            var pixels = new float[batch * model.Preprocessor.FloatsPerImage];
            model.Preprocessor.Preprocess(native, batch, 400, 600, pixels);
            var embeddings = new float[batch * model.EmbedDim];

            using var bare = BareSession(imagePath, threads: Environment.ProcessorCount);
            // Interleaved rounds, medians: the machine's speed drifts more between minutes than between paths.
            var rates = Interleaved(batch, 3,
                () => RunBare(bare, pixels, batch, config.ImageSize, embeddings, model.EmbedDim),
                () => model.EmbedImages(native, batch, 400, 600, embeddings),
                () => model.EmbedImages(small, batch, 224, 224, embeddings));
            var (bareRate, fullNative, fullSmall) = (rates[0], rates[1], rates[2]);
            var preprocessRate = ImagesPerSecond(batch, () => model.Preprocessor.Preprocess(native, batch, 400, 600, pixels));

            Console.WriteLine($"| path (batch 32, {Environment.ProcessorCount} threads) | images/s | vs bare Run |");
            Console.WriteLine("|---|---:|---:|");
            Console.WriteLine($"| bare InferenceSession.Run on a pre-made tensor | {bareRate:F1} | 1.00× |");
            Console.WriteLine($"| full path from 600×400 frames (preprocess + batch + session) | {fullNative:F1} | {fullNative / bareRate:F2}× |");
            Console.WriteLine($"| full path from 224×224 frames | {fullSmall:F1} | {fullSmall / bareRate:F2}× |");
            Console.WriteLine($"| preprocessing alone, 600×400 → 224 (bicubic, parallel) | {preprocessRate:F0} | — |");
            Console.WriteLine();

            // The fp32 ceiling: a large square MatMul (the old 256×1024·1024×1024 probe read 150 GFLOP/s, below the tower itself) and the CPU's own peak.
            var cpu = CpuPeak.Read();
            var peak = MatMulGops(MatMulSize, quantized: false, threads: Environment.ProcessorCount);
            var achieved = bareRate * ImageTowerFlops(config) / 1e9;
            Console.WriteLine($"fp32 MatMul probe (ONNX Runtime, {MatMulSize}×{MatMulSize}·{MatMulSize}×{MatMulSize}, {Environment.ProcessorCount} threads): {peak:F1} GFLOP/s");
            Console.WriteLine($"fp32 peak from /proc/cpuinfo: {cpu?.Fp32Formula ?? "not readable here"}");
            using var defaultThreads = BareSession(imagePath, threads: 0);
            var defaultRate = Interleaved(batch, 2,
                () => RunBare(bare, pixels, batch, config.ImageSize, embeddings, model.EmbedDim),
                () => RunBare(defaultThreads, pixels, batch, config.ImageSize, embeddings, model.EmbedDim));
            Console.WriteLine($"ONNX Runtime's default intra-op threads (0) vs {Environment.ProcessorCount} set explicitly: {defaultRate[1] / defaultRate[0]:F2}×");
            Console.WriteLine($"Image tower achieved: {achieved:F1} GFLOP/s = {achieved / peak:F2}× the MatMul probe" + (cpu is null ? "" : $", {achieved / cpu.Fp32Gflops:F2}× the CPU's fp32 peak"));
            Console.WriteLine();

            var (int8Bytes, _) = synthetic.ExportImageTower(quantizeInt8: true);
            var int8Path = Path.Combine(folder, "image-int8.onnx");
            File.WriteAllBytes(int8Path, int8Bytes);
            using var int8 = BareSession(int8Path, threads: Environment.ProcessorCount);
            var quantizedRates = Interleaved(batch, 2,
                () => RunBare(bare, pixels, batch, config.ImageSize, embeddings, model.EmbedDim),
                () => RunBare(int8, pixels, batch, config.ImageSize, embeddings, model.EmbedDim));
            var int8Rate = quantizedRates[1] / quantizedRates[0] * bareRate;
            var fp32Embeddings = new float[embeddings.Length];
            RunBare(bare, pixels, batch, config.ImageSize, fp32Embeddings, model.EmbedDim);
            RunBare(int8, pixels, batch, config.ImageSize, embeddings, model.EmbedDim);
            var cosines = Enumerable.Range(0, batch)
                .Select(i => ClipReward.Cosine(fp32Embeddings.AsSpan(i * model.EmbedDim, model.EmbedDim), embeddings.AsSpan(i * model.EmbedDim, model.EmbedDim)))
                .ToArray();
            Console.WriteLine($"int8 dynamic quantization (weights per column, activations per call): {int8Rate:F1} images/s = {quantizedRates[1] / quantizedRates[0]:F2}× fp32; " +
                              $"cosine to fp32 mean {cosines.Average():F5}, min {cosines.Min():F5}; file {int8Bytes.Length / 1e6:F0} MB vs {new FileInfo(imagePath).Length / 1e6:F0} MB");
            var int8Peak = MatMulGops(MatMulSize, quantized: true, threads: Environment.ProcessorCount);
            var int8Achieved = int8Rate * ImageTowerFlops(config) / 1e9;
            Console.WriteLine($"int8 MatMul probe (DynamicQuantizeLinear + MatMulInteger + rescale, {MatMulSize}², {Environment.ProcessorCount} threads): {int8Peak:F1} GOP/s = {int8Peak / peak:F2}× fp32");
            Console.WriteLine($"int8 peak from /proc/cpuinfo: {cpu?.Int8Formula ?? "not readable here"}");
            Console.WriteLine($"int8 image tower achieved: {int8Achieved:F1} GOP/s = {int8Achieved / int8Peak:F2}× the int8 MatMul probe" + (cpu is { Int8Gops: > 0 } ? $", {int8Achieved / cpu.Int8Gops:F2}× the CPU's VNNI peak" : ""));
            Console.WriteLine();

            Console.WriteLine("| batch | images/s, 1 thread | images/s, 2 threads |");
            Console.WriteLine("|---:|---:|---:|");
            using var one = BareSession(imagePath, threads: 1);
            using var two = BareSession(imagePath, threads: 2);
            foreach (var n in new[] { 1, 8, 32, 128 })
            {
                var tensor = new float[n * model.Preprocessor.FloatsPerImage];
                for (var i = 0; i < n; i++) pixels.AsSpan(i % batch * model.Preprocessor.FloatsPerImage, model.Preprocessor.FloatsPerImage).CopyTo(tensor.AsSpan(i * model.Preprocessor.FloatsPerImage));
                var output = new float[n * model.EmbedDim];
                var r1 = ImagesPerSecond(n, () => RunBare(one, tensor, n, config.ImageSize, output, model.EmbedDim));
                var r2 = ImagesPerSecond(n, () => RunBare(two, tensor, n, config.ImageSize, output, model.EmbedDim));
                Console.WriteLine($"| {n} | {r1:F1} | {r2:F1} |");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Multiply-adds ×2 of the patch convolution, the transformer blocks and the projection.</summary>
    private static double ImageTowerFlops(ClipArchitecture c)
    {
        double tokens = c.Grid * c.Grid + 1, width = c.VisionWidth;
        var patch = 2.0 * c.Grid * c.Grid * width * 3 * c.PatchSize * c.PatchSize;
        var block = 2 * tokens * width * width * 4 + 2 * 2 * tokens * tokens * width + 2 * tokens * width * 4 * width * 2;
        return patch + c.VisionLayers * block + 2 * width * c.EmbedDim;
    }

    internal static byte[] CartPoleFrames(int count, int width, int height)
    {
        var renderer = new CartPoleRenderer(width, height);
        var frames = new byte[count * width * height * 3];
        for (var i = 0; i < count; i++) renderer.Render(new CartPoleState(-2 + 4.0 * i / count, 0, -1 + 2.0 * i / count, 0), frames.AsSpan(i * width * height * 3, width * height * 3));
        return frames;
    }

    private static InferenceSession BareSession(string path, int threads) =>
        new(path, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads });

    private static void RunBare(InferenceSession session, float[] pixels, int count, int size, float[] embeddings, int dim)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, count * 3 * size * size), [count, 3, size, size]);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, embeddings.AsMemory(0, count * dim), [count, dim]);
        using var run = new RunOptions();
        session.Run(run, [ClipWeights.ImageInput], [input], [ClipWeights.ImageOutput], [output]);
    }

    private const int MatMulSize = 2048;

    /// <summary>Operations per second (2·n³ per call) of an n×n·n×n MatMul in ONNX Runtime, float32 or int8.</summary>
    private static double MatMulGops(int n, bool quantized, int threads)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vlmrm-matmul-{Environment.ProcessId}-{(quantized ? "int8" : "fp32")}.onnx");
        File.WriteAllBytes(path, OnnxProbes.MatMul(n, quantized));
        try
        {
            using var session = BareSession(path, threads);
            var x = new float[n * n];
            var rng = new Random(3);
            for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() - 0.5);
            var y = new float[n * n];
            var runsPerSecond = ImagesPerSecond(1, () =>
            {
                using var input = OrtValue.CreateTensorValueFromMemory(x, [n, n]);
                using var output = OrtValue.CreateTensorValueFromMemory(y, [n, n]);
                using var run = new RunOptions();
                session.Run(run, ["x"], [input], ["y"], [output]);
            });
            return runsPerSecond * 2.0 * n * n * n / 1e9;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Several rounds of each call in turn; the median items/s of each.</summary>
    internal static double[] Interleaved(int itemsPerCall, int rounds, params Action[] calls)
    {
        var samples = calls.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var c = 0; c < calls.Length; c++) samples[c].Add(ImagesPerSecond(itemsPerCall, calls[c]));
        }
        return samples.Select(s => s.Order().ElementAt(s.Count / 2)).ToArray();
    }

    /// <summary>One warm-up call, then calls until 2 s have passed; items per second.</summary>
    private static double ImagesPerSecond(int itemsPerCall, Action call)
    {
        call();
        var calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 2 || calls < 2)
        {
            call();
            calls++;
        }
        return calls * itemsPerCall / clock.Elapsed.TotalSeconds;
    }

    private static string FindTokenizerDirectory()
    {
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("VLMRM_TOKENIZER"), Path.Combine("..", "shared", "models", "clip-tokenizer") })
        {
            if (candidate is { Length: > 0 } && File.Exists(Path.Combine(candidate, "bpe_simple_vocab_16e6.txt.gz"))) return Path.GetFullPath(candidate);
        }
        throw new FileNotFoundException("The clip benchmark needs CLIP's tokenizer file: set VLMRM_TOKENIZER or keep ../shared/models/clip-tokenizer beside the repository.");
    }
}
