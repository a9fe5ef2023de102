using System.Text.Json;
using VlmRm.Clip.Preprocessing;

namespace VlmRm.Clip.Tests;

public class ClipPreprocessorTests
{
    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>Same formula as TestData/make_pil_golden.py.</summary>
    internal static byte[] MakeImage(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                rgb[i] = (byte)((x * 37 + y * 11) % 256);
                rgb[i + 1] = (byte)((x * x + 3 * y) % 256);
                rgb[i + 2] = (byte)(((255 - x * 5 + y * y) % 256 + 256) % 256);
            }
        }
        return rgb;
    }

    public static TheoryData<int, int, int, string> PilCases()
    {
        var data = new TheoryData<int, int, int, string>();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "pil_golden.json")));
        foreach (var c in json.RootElement.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), c.GetProperty("size").GetInt32(), c.GetProperty("rgb").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PilCases))]
    public void Resize_and_crop_are_byte_identical_to_pillow(int width, int height, int size, string expectedHex)
    {
        var expected = Convert.FromHexString(expectedHex);
        var preprocessor = new ClipPreprocessor(size, [0, 0, 0], [1, 1, 1]);
        var tensor = new float[3 * size * size];
        preprocessor.Preprocess(MakeImage(width, height), 1, height, width, tensor);
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var actual = (int)Math.Round(tensor[c * size * size + y * size + x] * 255f);
                    Assert.True(expected[(y * size + x) * 3 + c] == actual, $"pixel ({x},{y}) channel {c}: PIL {expected[(y * size + x) * 3 + c]}, ours {actual}");
                }
            }
        }
    }

    [Fact]
    public void Sizes_follow_torchvision()
    {
        Assert.Equal((336, 224), ClipPreprocessor.ResizedSize(600, 400, 224));
        Assert.Equal((224, 336), ClipPreprocessor.ResizedSize(400, 600, 224));
        Assert.Equal((224, 224), ClipPreprocessor.ResizedSize(480, 480, 224));
        Assert.Equal((56, 0), ClipPreprocessor.CropOffset(336, 224, 224));
        Assert.Equal((0, 0), ClipPreprocessor.CropOffset(17, 16, 16)); // round(0.5) = 0 in Python
        Assert.Equal((2, 0), ClipPreprocessor.CropOffset(19, 16, 16)); // round(1.5) = 2
    }

    [Fact]
    public void Normalizes_with_clips_mean_and_std_in_chw_order()
    {
        var preprocessor = new ClipPreprocessor(4, Mean, Std);
        var frame = new byte[4 * 4 * 3];
        for (var i = 0; i < 16; i++) (frame[i * 3], frame[i * 3 + 1], frame[i * 3 + 2]) = (255, 0, 128);
        var tensor = new float[48];
        preprocessor.Preprocess(frame, 1, 4, 4, tensor);
        Assert.All(tensor[..16], v => Assert.Equal((1f - Mean[0]) / Std[0], v, 6));
        Assert.All(tensor[16..32], v => Assert.Equal((0f - Mean[1]) / Std[1], v, 6));
        Assert.All(tensor[32..], v => Assert.Equal((128 / 255f - Mean[2]) / Std[2], v, 6));
    }

    [Fact]
    public void Batches_in_parallel_equal_one_by_one_and_make_no_per_image_allocations()
    {
        var preprocessor = new ClipPreprocessor(24, Mean, Std);
        var frames = new byte[8 * 60 * 40 * 3];
        for (var i = 0; i < 8; i++) MakeImage(60, 40).AsSpan().CopyTo(frames.AsSpan(i * 7200));
        frames[7200 * 3 + 5] ^= 0xFF; // the images differ
        var serial = new float[8 * preprocessor.FloatsPerImage];
        var parallel = new float[8 * preprocessor.FloatsPerImage];
        preprocessor.Preprocess(frames, 8, 40, 60, serial, maxDegreeOfParallelism: 1);
        preprocessor.Preprocess(frames, 8, 40, 60, parallel, maxDegreeOfParallelism: 2);
        Assert.Equal(serial, parallel);

        for (var i = 0; i < 200; i++) preprocessor.Preprocess(frames, 8, 40, 60, serial, maxDegreeOfParallelism: 1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++) preprocessor.Preprocess(frames, 8, 40, 60, serial, maxDegreeOfParallelism: 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Wrong_buffer_sizes_are_clear_errors()
    {
        var preprocessor = new ClipPreprocessor(8, Mean, Std);
        Assert.Contains("Expected 2 frames", Assert.Throws<ArgumentException>(() => preprocessor.Preprocess(new byte[10], 2, 8, 8, new float[400])).Message);
        Assert.Contains("Destination holds", Assert.Throws<ArgumentException>(() => preprocessor.Preprocess(new byte[192], 1, 8, 8, new float[10])).Message);
    }
}
