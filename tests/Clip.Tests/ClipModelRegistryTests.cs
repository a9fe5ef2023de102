using System.Security.Cryptography;
using VlmRm.Clip.Models;

namespace VlmRm.Clip.Tests;

/// <summary>Missing, truncated, swapped and corrupt model files: each is an error naming the file and what was expected.</summary>
public class ClipModelRegistryTests(SyntheticModelFixture fixture) : IClassFixture<SyntheticModelFixture>
{
    [Fact]
    public void Missing_model_names_the_folder_and_lists_what_is_present()
    {
        var registry = new ClipModelRegistry(fixture.Options());
        var error = Assert.Throws<FileNotFoundException>(() => registry.Resolve("ViT-bigG-14/laion2b_s39b_b160k"));
        Assert.Contains("ViT-bigG-14__laion2b_s39b_b160k", error.Message);
        Assert.Contains(SyntheticModelFixture.Name, error.Message);
        Assert.Contains("not one of the known", Assert.Throws<FileNotFoundException>(() => registry.Resolve("ViT-Q-99/nowhere")).Message);
        Assert.Equal([SyntheticModelFixture.Name], registry.Available());
    }

    [Fact]
    public void Truncated_file_is_reported_with_both_sizes()
    {
        var (options, folder) = fixture.CopyModel("Damaged/truncated");
        var image = Path.Combine(folder, "image.onnx");
        var bytes = File.ReadAllBytes(image);
        File.WriteAllBytes(image, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<InvalidDataException>(() => new ClipModelRegistry(options).Resolve("Damaged/truncated"));
        Assert.Contains("image.onnx is truncated", error.Message);
        Assert.Contains($"{bytes.Length:N0} bytes", error.Message);
    }

    [Fact]
    public void Same_size_different_content_fails_the_checksum()
    {
        var (options, folder) = fixture.CopyModel("Damaged/flipped");
        var text = Path.Combine(folder, "text.onnx");
        var bytes = File.ReadAllBytes(text);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(text, bytes);
        var error = Assert.Throws<InvalidDataException>(() => new ClipModelRegistry(options).Resolve("Damaged/flipped"));
        Assert.Contains("text.onnx does not match model.json", error.Message);
    }

    [Fact]
    public void Corrupt_onnx_file_with_a_consistent_manifest_is_rejected_by_onnx_runtime_naming_the_file()
    {
        var (options, folder) = fixture.CopyModel("Damaged/garbage");
        var garbage = new byte[4096];
        new Random(1).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(folder, "image.onnx"), garbage);
        var manifest = ClipModelManifest.Load(Path.Combine(folder, "model.json"));
        (manifest with { Image = manifest.Image with { Bytes = garbage.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(garbage)) } }).Save(Path.Combine(folder, "model.json"));
        var error = Assert.Throws<InvalidDataException>(() => OnnxClipModel.Load("Damaged/garbage", options));
        Assert.Contains("cannot load the image tower", error.Message);
        Assert.Contains("image.onnx", error.Message);
    }

    [Fact]
    public void Wrong_output_name_or_embedding_size_in_the_manifest_is_reported()
    {
        var (options, folder) = fixture.CopyModel("Damaged/names");
        var manifest = ClipModelManifest.Load(Path.Combine(folder, "model.json"));
        (manifest with { Image = manifest.Image with { Output = "pooled" } }).Save(Path.Combine(folder, "model.json"));
        Assert.Contains("has no output 'pooled'", Assert.Throws<InvalidDataException>(() => OnnxClipModel.Load("Damaged/names", options)).Message);
        (manifest with { EmbedDim = 999 }).Save(Path.Combine(folder, "model.json"));
        Assert.Contains("expected [batch, 999]", Assert.Throws<InvalidDataException>(() => OnnxClipModel.Load("Damaged/names", options)).Message);
    }

    [Fact]
    public void Malformed_manifest_is_a_clear_error()
    {
        var (options, folder) = fixture.CopyModel("Damaged/manifest");
        File.WriteAllText(Path.Combine(folder, "model.json"), "{ \"name\": 3");
        Assert.Contains("not a valid model manifest", Assert.Throws<InvalidDataException>(() => new ClipModelRegistry(options).Resolve("Damaged/manifest")).Message);
    }

    [Fact]
    public void Known_registry_spans_the_papers_scaling_ladder()
    {
        Assert.Equal("RN50/openai", KnownClipModels.All[0].Name);
        Assert.Equal("ViT-bigG-14/laion2b_s39b_b160k", KnownClipModels.All[^1].Name);
        Assert.Equal("ViT-B-32__openai", KnownClipModels.Find("vit-b-32/OPENAI")!.FolderName);
    }
}
