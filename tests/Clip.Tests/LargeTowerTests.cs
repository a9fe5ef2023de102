using System.Security.Cryptography;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Onnx;

namespace VlmRm.Clip.Tests;

/// <summary>
/// Towers over protobuf's 2 GB limit (ViT-H-14, ViT-bigG-14) keep their weights in ONNX external data beside
/// the .onnx. A synthetic tower with a 2.2 GB weight, written as a sparse file so the test stays fast, is
/// hashed file by file in model.json and loads through the registry; a damaged data file is named.
/// </summary>
public sealed class LargeTowerTests
{
    private const int EmbedDim = 16;

    /// <summary>34.4M rows of 16 floats: 2.2 GB, over 2³¹ bytes.</summary>
    private const long Rows = 34_400_000;

    [Fact]
    public void A_tower_with_weights_over_2_GB_in_external_data_loads_through_the_registry_and_embeds()
    {
        var models = Directory.CreateTempSubdirectory("vlmrm-large-tower-").FullName;
        try
        {
            var folder = Path.Combine(models, "Synthetic-Large__external");
            Directory.CreateDirectory(folder);
            var manifest = WriteFolder(folder);
            Assert.True(manifest.Image.Data.Single().Bytes > int.MaxValue);
            Assert.True(new FileInfo(Path.Combine(folder, "image.onnx")).Length < 1 << 20); // the graph alone: the weights are outside it

            var options = new ClipRuntimeOptions { ModelsDirectory = models, ExecutionProvider = ExecutionProviderChoice.Cpu, IntraOpThreads = 1 };
            using var model = OnnxClipModel.Load("Synthetic-Large/external", options);
            var frames = new byte[2 * 32 * 32 * 3];
            for (var i = 0; i < frames.Length; i++) frames[i] = (byte)(i * 7);
            var embeddings = new float[2 * EmbedDim];
            model.EmbedImages(frames, 2, 32, 32, embeddings);
            Assert.All(embeddings, v => Assert.True(float.IsFinite(v)));
            Assert.Contains(embeddings, v => v != 0);
            Assert.All(model.EmbedTexts(["a humanoid robot kneeling"]), v => Assert.True(float.IsFinite(v)));

            // A data file cut short is refused by name before ONNX Runtime reads it.
            using (var data = new FileStream(Path.Combine(folder, "image.onnx.data"), FileMode.Open)) data.SetLength(data.Length - 4);
            var error = Assert.Throws<InvalidDataException>(() => new ClipModelRegistry(options).Resolve("Synthetic-Large/external"));
            Assert.Contains("image.onnx.data is truncated", error.Message);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    /// <summary>
    /// image.onnx: mean colour [N, 3] → MatMul [3, D] → + row 0 of a [Rows, D] table held in image.onnx.data (zeros,
    /// so it changes nothing but the size); text.onnx: token embedding, mean over the context.
    /// </summary>
    private static ClipModelManifest WriteFolder(string folder)
    {
        var image = new OnnxGraphBuilder("large_image_tower");
        var pixels = image.FloatInput(ClipWeights.ImageInput, "batch", 3, 32, 32);
        var colour = image.Node("ReduceMean", [pixels], null, OnnxGraphBuilder.Ints("axes", 2, 3), OnnxGraphBuilder.Int("keepdims", 0));
        var projected = image.MatMul(colour, image.Initializer("proj", Enumerable.Range(0, 3 * EmbedDim).Select(i => (i % 5 - 2) * 0.5f).ToArray(), [3, EmbedDim]));
        var table = image.ExternalInitializer("table", [Rows, EmbedDim], "image.onnx.data", offset: 0);
        var row = image.Node("Gather", [table, image.Int64Constant(0)], null, OnnxGraphBuilder.Int("axis", 0));
        image.Add(projected, row, ClipWeights.ImageOutput);
        image.FloatOutput(ClipWeights.ImageOutput, "batch", EmbedDim);
        File.WriteAllBytes(Path.Combine(folder, "image.onnx"), image.ToBytes("vlmrm-test"));
        using (var data = new FileStream(Path.Combine(folder, "image.onnx.data"), FileMode.CreateNew)) data.SetLength(Rows * EmbedDim * sizeof(float)); // sparse: zeros, no disk

        var text = new OnnxGraphBuilder("large_text_tower");
        var tokens = text.Int64Input(ClipWeights.TextInput, "batch", 77);
        var embedding = text.Initializer("token_embedding", Enumerable.Range(0, 49408 * EmbedDim).Select(i => (i % 11 - 5) * 0.1f).ToArray(), [49408, EmbedDim]);
        var looked = text.Node("Gather", [embedding, tokens], null, OnnxGraphBuilder.Int("axis", 0));
        text.Node("ReduceMean", [looked], ClipWeights.TextOutput, OnnxGraphBuilder.Ints("axes", 1), OnnxGraphBuilder.Int("keepdims", 0));
        text.FloatOutput(ClipWeights.TextOutput, "batch", EmbedDim);
        File.WriteAllBytes(Path.Combine(folder, "text.onnx"), text.ToBytes("vlmrm-test"));

        var manifest = new ClipModelManifest
        {
            Name = "Synthetic-Large/external",
            ImageSize = 32,
            EmbedDim = EmbedDim,
            Image = Tower(folder, "image.onnx", ClipWeights.ImageInput, ClipWeights.ImageOutput) with { Data = [Data(folder, "image.onnx.data")] },
            Text = Tower(folder, "text.onnx", ClipWeights.TextInput, ClipWeights.TextOutput),
        };
        manifest.Save(Path.Combine(folder, ClipModelRegistry.ManifestFile));
        return manifest;
    }

    private static TowerFile Tower(string folder, string file, string input, string output)
    {
        var (bytes, sha) = Facts(Path.Combine(folder, file));
        return new TowerFile { File = file, Input = input, Output = output, Bytes = bytes, Sha256 = sha };
    }

    private static DataFile Data(string folder, string file)
    {
        var (bytes, sha) = Facts(Path.Combine(folder, file));
        return new DataFile { File = file, Bytes = bytes, Sha256 = sha };
    }

    private static (long Bytes, string Sha256) Facts(string path)
    {
        using var stream = File.OpenRead(path);
        return (stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }
}
