using System.Buffers.Binary;
using System.IO.Compression;

namespace VlmRm.Envs.Imaging;

/// <summary>
/// A small PNG codec: writes 8-bit RGB/RGBA, reads 8-bit non-interlaced greyscale, RGB, palette,
/// grey+alpha and RGBA, which covers the frames this project writes and the paper's texture files.
/// </summary>
public static class Png
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];
    private static readonly uint[] CrcTable = BuildCrcTable();

    public static void WriteRgb(string path, ReadOnlySpan<byte> rgb, int width, int height) =>
        Write(path, rgb, width, height, channels: 3);

    public static void WriteRgba(string path, ReadOnlySpan<byte> rgba, int width, int height) =>
        Write(path, rgba, width, height, channels: 4);

    /// <summary>Writes atomically: a temporary file in the same folder, renamed over the target.</summary>
    public static void Write(string path, ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        var bytes = Encode(pixels, width, height, channels);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (channels is not (3 or 4)) throw new ArgumentOutOfRangeException(nameof(channels), "PNG encoder writes RGB (3) or RGBA (4).");
        var stride = width * channels;
        if (pixels.Length != stride * height)
        {
            throw new ArgumentException($"Pixel buffer has {pixels.Length} bytes; {width}×{height}×{channels} needs {stride * height}.", nameof(pixels));
        }
        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;
        header[9] = (byte)(channels == 3 ? 2 : 6);
        WriteChunk(output, "IHDR"u8, header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            // Sub filter on every row: cheap, and rendered frames have long runs of equal pixels.
            var row = new byte[stride + 1];
            row[0] = 1;
            for (var y = 0; y < height; y++)
            {
                var src = pixels.Slice(y * stride, stride);
                src[..channels].CopyTo(row.AsSpan(1));
                for (var i = channels; i < stride; i++) row[i + 1] = (byte)(src[i] - src[i - channels]);
                zlib.Write(row);
            }
        }
        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    public static RgbaImage Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PNG file not found: {path}", path);
        try
        {
            return Decode(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static RgbaImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8 || !data[..8].SequenceEqual(Signature)) throw new InvalidDataException("not a PNG file (bad signature)");
        int width = 0, height = 0, colorType = -1;
        byte[]? palette = null, paletteAlpha = null;
        using var idat = new MemoryStream();
        var offset = 8;
        while (offset + 12 <= data.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data[offset..]);
            if (length < 0 || offset + 12 + length > data.Length) throw new InvalidDataException("truncated chunk");
            var type = data.Slice(offset + 4, 4);
            var body = data.Slice(offset + 8, length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(data[(offset + 8 + length)..]);
            if (crc != Crc(data.Slice(offset + 4, length + 4))) throw new InvalidDataException($"CRC mismatch in {System.Text.Encoding.ASCII.GetString(type)} chunk");
            if (type.SequenceEqual("IHDR"u8))
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                var bitDepth = body[8];
                colorType = body[9];
                if (bitDepth != 8) throw new InvalidDataException($"bit depth {bitDepth} is not supported (8 only)");
                if (body[12] != 0) throw new InvalidDataException("interlaced PNGs are not supported");
                if (width <= 0 || height <= 0) throw new InvalidDataException($"bad size {width}×{height}");
            }
            else if (type.SequenceEqual("PLTE"u8)) palette = body.ToArray();
            else if (type.SequenceEqual("tRNS"u8)) paletteAlpha = body.ToArray();
            else if (type.SequenceEqual("IDAT"u8)) idat.Write(body);
            else if (type.SequenceEqual("IEND"u8)) break;
            offset += 12 + length;
        }
        if (colorType < 0) throw new InvalidDataException("missing IHDR chunk");
        var channels = colorType switch
        {
            0 => 1,
            2 => 3,
            3 => 1,
            4 => 2,
            6 => 4,
            _ => throw new InvalidDataException($"colour type {colorType} is not supported"),
        };
        if (colorType == 3 && palette is null) throw new InvalidDataException("palette image without PLTE chunk");

        var stride = width * channels;
        var raw = new byte[stride * height];
        idat.Position = 0;
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            var previous = new byte[stride];
            var filterByte = new byte[1];
            for (var y = 0; y < height; y++)
            {
                if (zlib.ReadAtLeast(filterByte, 1, throwOnEndOfStream: false) != 1) throw new InvalidDataException("image data ends early");
                var row = raw.AsSpan(y * stride, stride);
                if (zlib.ReadAtLeast(row, stride, throwOnEndOfStream: false) != stride) throw new InvalidDataException("image data ends early");
                Unfilter(filterByte[0], row, previous, channels);
                row.CopyTo(previous);
            }
        }
        return new RgbaImage(width, height, ToRgba(raw, width * height, colorType, palette, paletteAlpha));
    }

    private static byte[] ToRgba(byte[] raw, int pixelCount, int colorType, byte[]? palette, byte[]? paletteAlpha)
    {
        var rgba = new byte[pixelCount * 4];
        for (var p = 0; p < pixelCount; p++)
        {
            var o = p * 4;
            switch (colorType)
            {
                case 0:
                    rgba[o] = rgba[o + 1] = rgba[o + 2] = raw[p];
                    rgba[o + 3] = 255;
                    break;
                case 2:
                    rgba[o] = raw[p * 3];
                    rgba[o + 1] = raw[p * 3 + 1];
                    rgba[o + 2] = raw[p * 3 + 2];
                    rgba[o + 3] = 255;
                    break;
                case 3:
                    var index = raw[p];
                    if (index * 3 + 2 >= palette!.Length) throw new InvalidDataException($"palette index {index} out of range");
                    rgba[o] = palette[index * 3];
                    rgba[o + 1] = palette[index * 3 + 1];
                    rgba[o + 2] = palette[index * 3 + 2];
                    rgba[o + 3] = paletteAlpha is not null && index < paletteAlpha.Length ? paletteAlpha[index] : (byte)255;
                    break;
                case 4:
                    rgba[o] = rgba[o + 1] = rgba[o + 2] = raw[p * 2];
                    rgba[o + 3] = raw[p * 2 + 1];
                    break;
                default:
                    Buffer.BlockCopy(raw, o, rgba, o, 4);
                    break;
            }
        }
        return rgba;
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> previous, int bpp)
    {
        switch (filter)
        {
            case 0:
                return;
            case 1:
                for (var i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                return;
            case 2:
                for (var i = 0; i < row.Length; i++) row[i] += previous[i];
                return;
            case 3:
                for (var i = 0; i < row.Length; i++)
                {
                    var left = i >= bpp ? row[i - bpp] : 0;
                    row[i] += (byte)((left + previous[i]) / 2);
                }
                return;
            case 4:
                for (var i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                return;
            default:
                throw new InvalidDataException($"unknown row filter {filter}");
        }
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        var crc = UpdateCrc(0xFFFFFFFFu, type);
        crc = UpdateCrc(crc, body) ^ 0xFFFFFFFFu;
        output.Write(type);
        output.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    private static uint Crc(ReadOnlySpan<byte> bytes) => UpdateCrc(0xFFFFFFFFu, bytes) ^ 0xFFFFFFFFu;

    private static uint UpdateCrc(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
