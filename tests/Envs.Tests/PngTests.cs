using VlmRm.Envs.Imaging;
using VlmRm.TestSupport;

namespace VlmRm.Envs.Tests;

public class PngTests
{
    [Fact]
    public void Round_trips_rgb_and_rgba()
    {
        var rng = new Rng(1);
        var rgb = new byte[17 * 9 * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)rng.NextInt(256);
        var decoded = Png.Decode(Png.Encode(rgb, 17, 9, 3));
        Assert.Equal((17, 9), (decoded.Width, decoded.Height));
        for (var p = 0; p < 17 * 9; p++)
        {
            Assert.Equal(rgb.AsSpan(p * 3, 3).ToArray(), decoded.Pixels.AsSpan(p * 4, 3).ToArray());
            Assert.Equal(255, decoded.Pixels[p * 4 + 3]);
        }
        var rgba = new byte[5 * 4 * 4];
        for (var i = 0; i < rgba.Length; i++) rgba[i] = (byte)(i * 7);
        Assert.Equal(rgba, Png.Decode(Png.Encode(rgba, 5, 4, 4)).Pixels);
    }

    [Fact]
    public void Corrupt_file_is_a_clear_error_naming_the_problem()
    {
        var bytes = Png.Encode(new byte[4 * 4 * 3], 4, 4, 3);
        bytes[40] ^= 0xFF; // inside IDAT: its CRC no longer matches
        var error = Assert.Throws<InvalidDataException>(() => Png.Decode(bytes));
        Assert.Contains("CRC mismatch", error.Message);
        Assert.Contains("bad signature", Assert.Throws<InvalidDataException>(() => Png.Decode([1, 2, 3, 4, 5, 6, 7, 8, 9])).Message);
        var path = Path.Combine(Path.GetTempPath(), $"vlmrm-truncated-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, bytes[..30]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Png.Read(path)).Message);
    }

    [Fact]
    public void Reads_the_papers_texture_files_when_present()
    {
        var assets = TestPaths.PaperAssetsDirectory;
        Assert.SkipWhen(assets is null, "the paper's reference assets (../shared/assets/vlmrm) are not on this machine");
        var background = Png.Read(Path.Combine(assets, "mountain_car_background.png"));
        Assert.Equal((600, 400), (background.Width, background.Height));
        var car = Png.Read(Path.Combine(assets, "mountain_car.png"));
        Assert.Equal((70, 33), (car.Width, car.Height));
    }
}
