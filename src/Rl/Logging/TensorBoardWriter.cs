using System.Buffers.Binary;
using System.Text;

namespace VlmRm.Rl.Logging;

/// <summary>Scalar metrics of a run, by tag and environment step.</summary>
public interface ITrainingLog : IDisposable
{
    void Scalar(string tag, double value, long step);

    void Flush();
}

/// <summary>
/// Writes TensorBoard event files (<c>events.out.tfevents.*</c>): TFRecord framing (length, masked
/// CRC-32C of the length, the serialized tensorflow.Event, masked CRC-32C of it), first a file_version
/// event "brain.Event:2", then one Event{wall_time, step, summary{value{tag, simple_value}}} per scalar.
/// </summary>
public sealed class TensorBoardWriter : ITrainingLog
{
    private readonly FileStream _stream;
    private readonly Lock _lock = new();

    public TensorBoardWriter(string logDirectory)
    {
        Directory.CreateDirectory(logDirectory);
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var name = $"events.out.tfevents.{seconds}.{Environment.MachineName}.{Environment.ProcessId}";
        // A run resumed in the same process within the same second (a cluster moving it) gets a suffixed file.
        FilePath = Path.Combine(logDirectory, name);
        for (var copy = 1; File.Exists(FilePath); copy++) FilePath = Path.Combine(logDirectory, $"{name}.{copy}");
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteRecord(EncodeEvent(WallTime(), 0, "brain.Event:2", null, 0));
    }

    public string FilePath { get; }

    public void Scalar(string tag, double value, long step)
    {
        if (!double.IsFinite(value)) return; // TensorBoard cannot plot NaN/∞; skip rather than corrupt the curve
        lock (_lock) WriteRecord(EncodeEvent(WallTime(), step, null, tag, (float)value));
    }

    public void Flush()
    {
        lock (_lock) _stream.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        lock (_lock) _stream.Dispose();
    }

    private static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        _stream.Write(header);
        _stream.Write(data);
        _stream.Write(footer);
    }

    internal static byte[] EncodeEvent(double wallTime, long step, string? fileVersion, string? tag, float value)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte(0x09); // field 1, fixed64: wall_time
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(eight, wallTime);
        buffer.Write(eight);
        buffer.WriteByte(0x10); // field 2, varint: step
        WriteVarint(buffer, (ulong)step);
        if (fileVersion is not null)
        {
            buffer.WriteByte(0x1A); // field 3, bytes: file_version
            WriteBytes(buffer, Encoding.UTF8.GetBytes(fileVersion));
        }
        if (tag is not null)
        {
            using var value_ = new MemoryStream();
            value_.WriteByte(0x0A); // Summary.Value field 1: tag
            WriteBytes(value_, Encoding.UTF8.GetBytes(tag));
            value_.WriteByte(0x15); // field 2, fixed32: simple_value
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(four, value);
            value_.Write(four);
            using var summary = new MemoryStream();
            summary.WriteByte(0x0A); // Summary field 1: value
            WriteBytes(summary, value_.ToArray());
            buffer.WriteByte(0x2A); // Event field 5: summary
            WriteBytes(buffer, summary.ToArray());
        }
        return buffer.ToArray();
    }

    private static void WriteBytes(Stream stream, byte[] bytes)
    {
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }
}

/// <summary>CRC-32C (Castagnoli), and TensorFlow's masking of it for record framing.</summary>
public static class Crc32C
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    public static uint Masked(ReadOnlySpan<byte> data)
    {
        var crc = Compute(data);
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
    }
}
