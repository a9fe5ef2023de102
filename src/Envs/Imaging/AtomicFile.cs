namespace VlmRm.Envs.Imaging;

/// <summary>Writes a file so that readers see either the old content or the complete new one, never a torn file.</summary>
public static class AtomicFile
{
    // Completes synchronously: the write and the flush below are synchronous for bytes already in memory.
    public static void WriteAllBytes(string path, ReadOnlyMemory<byte> bytes) => WriteAsync(path, stream =>
    {
        stream.Write(bytes.Span);
        return Task.CompletedTask;
    }).GetAwaiter().GetResult();

    /// <summary>
    /// The file's content as <paramref name="write"/> streams it into a temporary file, which is flushed to disk and
    /// then renamed over <paramref name="path"/>: for content too large to hold in memory (checkpoints).
    /// </summary>
    public static async Task WriteAsync(string path, Func<Stream, Task> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                await write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
