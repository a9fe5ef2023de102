using VlmRm.Clip.Models;

namespace VlmRm.Bench;

/// <summary>
/// The reward path of the shipped models, side by side in one run: images/s through the image tower from 224×224
/// CartPole frames (preprocessing included, batch 32) and text encodings/s of 16 prompts (tokenizer included), for
/// the default and its predecessor (both with their own small CLIP text tower), the one whose text tower is the locked
/// all-MiniLM-L6-v2, and the one whose image tower is also locked (ImageNet ResNet18 and a trained head).
/// </summary>
internal static class TowerBenchmark
{
    private static readonly string[] Models = ["VlmRm-S-32/envs-v4-plateau", "VlmRm-S-32/envs-v2", "VlmRm-S-32-MiniLM/envs-v3", "VlmRm-ResNet18-MiniLM/envs-v4"];

    public static void Run()
    {
        var directory = Environment.GetEnvironmentVariable("VLMRM_MODELS") is { Length: > 0 } configured ? configured : "models";
        var options = new ClipRuntimeOptions { ModelsDirectory = directory, ExecutionProvider = ExecutionProviderChoice.Cpu, MaxImageBatch = 32 };
        var present = Models.Intersect(new ClipModelRegistry(options).Available()).ToList();
        if (present.Count == 0)
        {
            Console.WriteLine($"None of {string.Join(", ", Models)} is in {Path.GetFullPath(directory)}.");
            return;
        }
        const int batch = 32;
        var frames = ClipBenchmark.CartPoleFrames(batch, 224, 224);
        var prompts = Enumerable.Range(0, 16).Select(i => $"a pole leaning {i} degrees to the left on top of a black cart").ToArray();
        var loaded = present.Select(name => OnnxClipModel.Load(name, options)).ToList();
        try
        {
            var calls = loaded.SelectMany(model =>
            {
                var embeddings = new float[batch * model.EmbedDim];
                return new Action[] { () => model.EmbedImages(frames, batch, 224, 224, embeddings), () => model.EmbedTexts(prompts) };
            }).ToArray();
            // One interleaved measurement per item kind: images (batch 32 per call) and texts (16 per call).
            var imageRates = ClipBenchmark.Interleaved(batch, 3, [.. calls.Where((_, i) => i % 2 == 0)]);
            var textRates = ClipBenchmark.Interleaved(prompts.Length, 3, [.. calls.Where((_, i) => i % 2 == 1)]);
            Console.WriteLine($"| model ({Environment.ProcessorCount} threads) | image tower | text tower | image.onnx | images/s | vs first | texts/s | vs first |");
            Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
            for (var i = 0; i < loaded.Count; i++)
            {
                var m = loaded[i].Manifest;
                string Locked(string file) => m.Restore.Any(r => r.File == file) ? " (locked, restored)" : "";
                var image = m.ImageHead is null ? m.Image.Kind : $"{m.Image.Kind} + trained head";
                var text = $"{m.Text.Kind}, {m.TokenizerKind}";
                var imageBytes = new FileInfo(loaded[i].Folder.ImagePath).Length;
                Console.WriteLine($"| {m.Name} | {image}{Locked(m.Image.File)} | {text}{Locked(m.Text.File)} | {imageBytes / 1e6:F1} MB | {imageRates[i]:F0} | {imageRates[i] / imageRates[0]:F2}× | {textRates[i]:F0} | {textRates[i] / textRates[0]:F2}× |");
            }
        }
        finally
        {
            foreach (var model in loaded) model.Dispose();
        }
    }
}
