using System.Diagnostics;
using VlmRm.TestSupport;

namespace VlmRm.Envs.Tests;

/// <summary>The try command's path end to end: real rendering, real ffmpeg, files a person can open.</summary>
public class RandomRolloutTests
{
    [Theory]
    [InlineData("CartPole")]
    [InlineData("MountainCarTextured")]
    public void Records_an_mp4_with_every_frame_and_png_snapshots(string id)
    {
        var folder = Path.Combine(TestPaths.ArtifactsDirectory("rollouts"), id);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        using var env = EnvRegistry.MakeVector(id, 2, seed: 3, new EnvOptions { RenderWidth = 160, RenderHeight = 120 });
        var summary = new RandomRollout(env, 3).Record(vectorSteps: 24, folder, pngEvery: 8, framesPerSecond: 30);

        Assert.Equal(48, summary.Steps);
        Assert.Equal(3, summary.PngPaths.Count);
        foreach (var path in summary.PngPaths)
        {
            var png = Imaging.Png.Read(path);
            Assert.Equal((160, 120), (png.Width, png.Height));
        }
        Assert.True(summary.FramesPerSecond > 0);
        Assert.Equal(24, CountVideoFrames(summary.VideoPath));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp*")); // the temporary file was renamed, not left behind
    }

    [Fact]
    public void Measures_steps_per_second()
    {
        using var env = EnvRegistry.MakeVector("CartPole", 2, seed: 0);
        Assert.True(new RandomRollout(env, 0).MeasureStepsPerSecond(1000) > 1000);
    }

    private static int CountVideoFrames(string path)
    {
        var start = new ProcessStartInfo("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path])
        {
            RedirectStandardOutput = true,
        };
        using var probe = Process.Start(start)!;
        var output = probe.StandardOutput.ReadToEnd().Trim();
        probe.WaitForExit();
        Assert.Equal(0, probe.ExitCode);
        return int.Parse(output, System.Globalization.CultureInfo.InvariantCulture);
    }
}
