using System.Buffers;

namespace VlmRm.Clip.Preprocessing;

/// <summary>
/// OpenCLIP's eval transform on RGB byte frames: Resize(shorter side → image size, bicubic, as PIL does
/// it), CenterCrop(image size), ToTensor (÷255), Normalize(mean, std); written straight into an
/// N×3×S×S float buffer. Only the cropped region is resampled, which gives the same pixels as resizing
/// the whole frame first. Images are processed in parallel; scratch comes from a pool, so a batch makes
/// no per-image allocations.
/// </summary>
public sealed class ClipPreprocessor
{
    /// <summary>OpenAI CLIP's normalization, which OpenCLIP's models and VlmRm's own use (model.json's default).</summary>
    public static IReadOnlyList<float> OpenAiMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    public static IReadOnlyList<float> OpenAiStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>
    /// The normalized value of every byte in each channel (3 × 256), computed with torchvision's order of float32
    /// operations: ToTensor divides by 255, Normalize subtracts and divides. A lookup gives the same floats as the
    /// arithmetic and leaves the per-pixel work to three loads (the divisions were most of a frame's time).
    /// </summary>
    private readonly float[] _normalized = new float[3 * 256];

    public ClipPreprocessor(int imageSize, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageSize);
        if (mean.Count != 3 || std.Count != 3) throw new ArgumentException("CLIP normalization takes 3 means and 3 standard deviations.");
        ImageSize = imageSize;
        for (var channel = 0; channel < 3; channel++)
        {
            for (var value = 0; value < 256; value++) _normalized[channel * 256 + value] = (value / 255f - mean[channel]) / std[channel];
        }
    }

    public int ImageSize { get; }

    public int FloatsPerImage => 3 * ImageSize * ImageSize;

    /// <summary>torchvision's Resize(int) output size: the shorter side becomes <paramref name="size"/>, the longer is scaled and truncated.</summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int size) =>
        width <= height ? (size, (int)(size * (long)height / width)) : ((int)(size * (long)width / height), size);

    /// <summary>torchvision's CenterCrop offsets (Python's round: halves to even).</summary>
    public static (int Left, int Top) CropOffset(int width, int height, int size) =>
        ((int)Math.Round((width - size) / 2.0, MidpointRounding.ToEven), (int)Math.Round((height - size) / 2.0, MidpointRounding.ToEven));

    /// <param name="frames">count × height × width × 3 RGB bytes.</param>
    /// <param name="destination">count × 3 × S × S floats.</param>
    public void Preprocess(ReadOnlySpan<byte> frames, int count, int height, int width, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        var frameBytes = height * width * 3;
        if (frames.Length < count * frameBytes) throw new ArgumentException($"Expected {count} frames of {width}×{height}×3 bytes ({count * frameBytes}), got {frames.Length}.", nameof(frames));
        if (destination.Length < count * FloatsPerImage) throw new ArgumentException($"Destination holds {destination.Length} floats; {count} images need {count * FloatsPerImage}.", nameof(destination));
        if (width < 1 || height < 1) throw new ArgumentException($"Frame size {width}×{height} is empty.");

        if (count == 1 || maxDegreeOfParallelism == 1)
        {
            for (var i = 0; i < count; i++) PreprocessOne(frames.Slice(i * frameBytes, frameBytes), height, width, destination.Slice(i * FloatsPerImage, FloatsPerImage));
            return;
        }
        PreprocessInParallel(frames, count, height, width, destination, maxDegreeOfParallelism);
    }

    private unsafe void PreprocessInParallel(ReadOnlySpan<byte> frames, int count, int height, int width, Span<float> destination, int maxDegreeOfParallelism)
    {
        var frameBytes = height * width * 3;
        var floats = FloatsPerImage;
        fixed (byte* source = frames)
        fixed (float* target = destination)
        {
            var (sourceAddress, targetAddress) = ((nint)source, (nint)target);
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i =>
                PreprocessOne(
                    new ReadOnlySpan<byte>((byte*)sourceAddress + (long)i * frameBytes, frameBytes),
                    height, width,
                    new Span<float>((float*)targetAddress + (long)i * floats, floats)));
        }
    }

    private void PreprocessOne(ReadOnlySpan<byte> frame, int height, int width, Span<float> destination)
    {
        var size = ImageSize;
        var (resizedWidth, resizedHeight) = ResizedSize(width, height, size);
        var (left, top) = CropOffset(resizedWidth, resizedHeight, size);
        var plane = size * size;

        if (resizedWidth == width && resizedHeight == height)
        {
            // Already at the model's size on its shorter side: PIL's resize is the identity, only the crop applies.
            for (var y = 0; y < size; y++) NormalizeRow(frame.Slice(((top + y) * width + left) * 3, size * 3), destination, y * size, plane);
            return;
        }

        var horizontal = PilBicubic.For(width, resizedWidth);
        var vertical = PilBicubic.For(height, resizedHeight);
        // Rows of the source the cropped output rows read.
        var firstRow = vertical.Bounds[top * 2];
        var lastRow = vertical.Bounds[(top + size - 1) * 2] + vertical.Bounds[(top + size - 1) * 2 + 1];
        var rows = lastRow - firstRow;
        var stride = size * 3;
        var scratch = ArrayPool<byte>.Shared.Rent(rows * stride);
        try
        {
            var intermediate = scratch.AsSpan(0, rows * stride);
            if (resizedWidth == width)
            {
                for (var y = 0; y < rows; y++) frame.Slice(((firstRow + y) * width + left) * 3, stride).CopyTo(intermediate.Slice(y * stride, stride));
            }
            else
            {
                horizontal.ResampleRows(frame, width, firstRow, rows, left, size, intermediate);
            }

            for (var y = 0; y < size; y++)
            {
                for (var x = 0; x < size; x++)
                {
                    byte r, g, b;
                    if (resizedHeight == height)
                    {
                        var p = (top + y - firstRow) * stride + x * 3;
                        (r, g, b) = (intermediate[p], intermediate[p + 1], intermediate[p + 2]);
                    }
                    else
                    {
                        r = vertical.Vertical(intermediate, stride, firstRow, top + y, x * 3);
                        g = vertical.Vertical(intermediate, stride, firstRow, top + y, x * 3 + 1);
                        b = vertical.Vertical(intermediate, stride, firstRow, top + y, x * 3 + 2);
                    }
                    WritePixel(destination, y * size + x, plane, r, g, b);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>One row of RGB bytes into the three planes from <paramref name="index"/> on (the hot loop of every frame at the model's size).</summary>
    private unsafe void NormalizeRow(ReadOnlySpan<byte> rgb, Span<float> destination, int index, int plane)
    {
        var pixels = rgb.Length / 3;
        if (index + 2 * plane + pixels > destination.Length) throw new ArgumentException("The row does not fit the destination.", nameof(destination));
        fixed (byte* source = rgb)
        fixed (float* target = destination)
        fixed (float* table = _normalized)
        {
            float* red = target + index, green = red + plane, blue = green + plane;
            for (var x = 0; x < pixels; x++)
            {
                red[x] = table[source[3 * x]];
                green[x] = table[256 + source[3 * x + 1]];
                blue[x] = table[512 + source[3 * x + 2]];
            }
        }
    }

    private void WritePixel(Span<float> destination, int index, int plane, byte r, byte g, byte b)
    {
        destination[index] = _normalized[r];
        destination[plane + index] = _normalized[256 + g];
        destination[2 * plane + index] = _normalized[512 + b];
    }
}
