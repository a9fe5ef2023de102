using System.ComponentModel;
using System.Diagnostics;

namespace VlmRm.Envs.Imaging;

/// <summary>
/// Streams RGB frames into an H.264 MP4 through Debian's ffmpeg. The file appears under its final
/// name only once ffmpeg has finished it, so a crash never leaves a half-written video behind.
/// </summary>
public sealed class Mp4Writer : IDisposable
{
    private readonly Process _ffmpeg;
    private readonly Stream _stdin;
    private readonly string _path;
    private readonly string _temporaryPath;
    private readonly int _frameBytes;
    private readonly Task<string> _stderr;
    private bool _finished;

    public Mp4Writer(string path, int width, int height, int framesPerSecond)
    {
        if (width % 2 != 0 || height % 2 != 0) throw new ArgumentException($"H.264 needs even frame sizes, got {width}×{height}.");
        _path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _temporaryPath = Path.Combine(Path.GetDirectoryName(_path)!, $".{Path.GetFileNameWithoutExtension(_path)}.{Guid.NewGuid():N}.tmp.mp4");
        _frameBytes = width * height * 3;
        var start = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-hide_banner", "-loglevel", "error", "-y",
                     "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{width}x{height}", "-r", framesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-i", "-",
                     "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                     _temporaryPath,
                 })
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            _ffmpeg = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("ffmpeg was not found on PATH; it writes the MP4 videos. Install it with `./vlmrm setup` (or apt-get install ffmpeg).", e);
        }
        _stdin = _ffmpeg.StandardInput.BaseStream;
        _stderr = _ffmpeg.StandardError.ReadToEndAsync();
    }

    public int FramesWritten { get; private set; }

    public void WriteFrame(ReadOnlySpan<byte> rgb)
    {
        if (rgb.Length != _frameBytes) throw new ArgumentException($"Frame has {rgb.Length} bytes, the video takes {_frameBytes}.", nameof(rgb));
        try
        {
            _stdin.Write(rgb);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"ffmpeg stopped accepting frames for {_path}: {Stderr()}", e);
        }
        FramesWritten++;
    }

    /// <summary>Finishes the video and moves it to its final name.</summary>
    public void Complete()
    {
        if (_finished) return;
        _finished = true;
        _stdin.Close();
        _ffmpeg.WaitForExit();
        if (_ffmpeg.ExitCode != 0)
        {
            File.Delete(_temporaryPath);
            throw new InvalidOperationException($"ffmpeg failed (exit {_ffmpeg.ExitCode}) writing {_path}: {Stderr()}");
        }
        File.Move(_temporaryPath, _path, overwrite: true);
    }

    public void Dispose()
    {
        if (!_finished)
        {
            // Abandoned without Complete(): discard the partial file rather than publish it.
            _finished = true;
            try
            {
                _stdin.Close();
            }
            catch (IOException)
            {
                // ffmpeg already gone; nothing to flush.
            }
            _ffmpeg.WaitForExit();
            File.Delete(_temporaryPath);
        }
        _ffmpeg.Dispose();
    }

    private string Stderr() => _stderr.Wait(TimeSpan.FromSeconds(5)) ? _stderr.Result.Trim() : "(no message)";
}
