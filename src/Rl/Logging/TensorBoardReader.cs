using System.Buffers.Binary;
using Google.Protobuf;

namespace VlmRm.Rl.Logging;

public readonly record struct ScalarPoint(long Step, double WallTime, float Value);

/// <summary>
/// Reads the scalars back from TensorBoard event files (any writer's: TFRecord framing, tensorflow.Event with
/// Summary.Value.simple_value), for learning-curve plots without TensorBoard. Records whose CRC does not match
/// end the file: a run killed mid-write leaves a torn last record, and everything before it is kept.
/// </summary>
public static class TensorBoardReader
{
    /// <summary>Scalars of every event file under <paramref name="logDirectory"/>, by tag, ordered by step.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<ScalarPoint>> ReadScalars(string logDirectory)
    {
        if (!Directory.Exists(logDirectory)) throw new DirectoryNotFoundException($"No TensorBoard log folder at {logDirectory}.");
        var byTag = new Dictionary<string, List<ScalarPoint>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(logDirectory, "events.out.tfevents.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            foreach (var record in ReadRecords(File.ReadAllBytes(file)))
            {
                if (DecodeScalar(record) is not { } scalar) continue;
                if (!byTag.TryGetValue(scalar.Tag, out var list)) byTag[scalar.Tag] = list = [];
                list.Add(scalar.Point);
            }
        }
        return byTag.ToDictionary(p => p.Key, p => (IReadOnlyList<ScalarPoint>)p.Value.OrderBy(s => s.Step).ToList(), StringComparer.Ordinal);
    }

    public static IEnumerable<byte[]> ReadRecords(byte[] file)
    {
        var offset = 0;
        while (offset + 12 <= file.Length)
        {
            var header = file.AsSpan(offset, 12);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Crc32C.Masked(header[..8])) yield break;
            if (length > (ulong)(file.Length - offset - 16)) yield break;
            var data = file.AsSpan(offset + 12, (int)length).ToArray();
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 12 + (int)length, 4)) != Crc32C.Masked(data)) yield break;
            offset += 16 + (int)length;
            yield return data;
        }
    }

    private static (string Tag, ScalarPoint Point)? DecodeScalar(byte[] record)
    {
        var input = new CodedInputStream(record);
        double wallTime = 0;
        long step = 0;
        (string Tag, float Value)? value = null;
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed64:
                    wallTime = input.ReadDouble();
                    break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    step = input.ReadInt64();
                    break;
                case 5 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    value = DecodeSummary(input.ReadBytes()) ?? value;
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return value is { } v ? (v.Tag, new ScalarPoint(step, wallTime, v.Value)) : null;
    }

    private static (string Tag, float Value)? DecodeSummary(ByteString summary)
    {
        var input = new CodedInputStream(summary.ToByteArray());
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }
            var value = new CodedInputStream(input.ReadBytes().ToByteArray());
            string? name = null;
            float? simple = null;
            for (var t = value.ReadTag(); t != 0; t = value.ReadTag())
            {
                switch (WireFormat.GetTagFieldNumber(t))
                {
                    case 1 when WireFormat.GetTagWireType(t) == WireFormat.WireType.LengthDelimited:
                        name = value.ReadString();
                        break;
                    case 2 when WireFormat.GetTagWireType(t) == WireFormat.WireType.Fixed32:
                        simple = value.ReadFloat();
                        break;
                    default:
                        value.SkipLastField();
                        break;
                }
            }
            if (name is not null && simple is { } s) return (name, s);
        }
        return null;
    }
}
