namespace VlmRm.Envs.Rendering;

/// <summary>
/// A tiny rasterizer over a row-major RGB byte buffer. Shapes are convex polygons filled with
/// anti-aliased edges: each pixel row is sampled on <see cref="SubScanlines"/> horizontal lines and the
/// horizontal span coverage on each line is exact, which matches pygame's aapolygon + filled_polygon
/// look closely while costing only a few operations per covered pixel.
/// </summary>
public readonly ref struct RgbCanvas
{
    private const int SubScanlines = 4;
    private const float FullCoverage = 0.999f;

    private readonly Span<byte> _pixels;
    private readonly Span<float> _coverage;

    /// <param name="pixels">Height × Width × 3 bytes.</param>
    /// <param name="coverageScratch">At least Width + 1 floats of scratch space owned by the caller.</param>
    public RgbCanvas(Span<byte> pixels, int width, int height, Span<float> coverageScratch)
    {
        if (pixels.Length != width * height * 3)
        {
            throw new ArgumentException($"RGB buffer has {pixels.Length} bytes; a {width}×{height} frame needs {width * height * 3}.", nameof(pixels));
        }
        if (coverageScratch.Length < width + 1)
        {
            throw new ArgumentException($"Coverage scratch needs {width + 1} floats, got {coverageScratch.Length}.", nameof(coverageScratch));
        }
        _pixels = pixels;
        Width = width;
        Height = height;
        _coverage = coverageScratch[..(width + 1)];
        _coverage.Clear();
    }

    public int Width { get; }
    public int Height { get; }

    public Span<byte> Pixels => _pixels;

    public void Clear(Rgb color)
    {
        if (color.R == color.G && color.G == color.B)
        {
            _pixels.Fill(color.R);
            return;
        }
        var row = _pixels[..(Width * 3)];
        for (var x = 0; x < Width; x++)
        {
            row[x * 3] = color.R;
            row[x * 3 + 1] = color.G;
            row[x * 3 + 2] = color.B;
        }
        for (var y = 1; y < Height; y++)
        {
            row.CopyTo(_pixels.Slice(y * Width * 3, Width * 3));
        }
    }

    public void SetPixel(int x, int y, Rgb color)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        var i = (y * Width + x) * 3;
        _pixels[i] = color.R;
        _pixels[i + 1] = color.G;
        _pixels[i + 2] = color.B;
    }

    public Rgb GetPixel(int x, int y)
    {
        var i = (y * Width + x) * 3;
        return new Rgb(_pixels[i], _pixels[i + 1], _pixels[i + 2]);
    }

    /// <summary>Fills a convex polygon (any winding) with anti-aliased edges.</summary>
    public void FillConvexPolygon(ReadOnlySpan<Vec2> points, Rgb color)
    {
        if (points.Length < 3) return;
        double minY = double.MaxValue, maxY = double.MinValue;
        foreach (var p in points)
        {
            minY = Math.Min(minY, p.Y);
            maxY = Math.Max(maxY, p.Y);
        }
        var rowStart = Math.Max(0, (int)Math.Floor(minY));
        var rowEnd = Math.Min(Height, (int)Math.Ceiling(maxY));
        for (var row = rowStart; row < rowEnd; row++)
        {
            var spanStart = int.MaxValue;
            var spanEnd = int.MinValue;
            for (var s = 0; s < SubScanlines; s++)
            {
                var sampleY = row + (s + 0.5) / SubScanlines;
                if (!IntersectScanline(points, sampleY, out var left, out var right)) continue;
                left = Math.Max(left, 0);
                right = Math.Min(right, Width);
                if (right <= left) continue;
                AccumulateSpan(left, right, 1f / SubScanlines, ref spanStart, ref spanEnd);
            }
            if (spanStart <= spanEnd) BlendRow(row, spanStart, spanEnd, color);
        }
    }

    /// <summary>Fills a disc, approximated by a polygon fine enough that its error is under a tenth of a pixel.</summary>
    public void FillCircle(Vec2 center, double radius, Rgb color)
    {
        if (radius <= 0) return;
        var segments = Math.Clamp((int)Math.Ceiling(Math.PI / Math.Acos(Math.Max(-1, 1 - 0.1 / radius))), 8, 96);
        Span<Vec2> polygon = stackalloc Vec2[segments];
        for (var i = 0; i < segments; i++)
        {
            var angle = 2 * Math.PI * i / segments;
            polygon[i] = new Vec2(center.X + radius * Math.Cos(angle), center.Y + radius * Math.Sin(angle));
        }
        FillConvexPolygon(polygon, color);
    }

    /// <summary>Draws a straight segment of the given thickness as a filled quad.</summary>
    public void DrawLine(Vec2 from, Vec2 to, double thickness, Rgb color)
    {
        var dx = to.X - from.X;
        var dy = to.Y - from.Y;
        var length = Math.Sqrt(dx * dx + dy * dy);
        if (length == 0) return;
        var nx = -dy / length * thickness / 2;
        var ny = dx / length * thickness / 2;
        ReadOnlySpan<Vec2> quad =
        [
            new(from.X + nx, from.Y + ny), new(to.X + nx, to.Y + ny),
            new(to.X - nx, to.Y - ny), new(from.X - nx, from.Y - ny),
        ];
        FillConvexPolygon(quad, color);
    }

    /// <summary>Fills an axis-aligned rectangle given by its corners in pixel space.</summary>
    public void FillRectangle(double left, double top, double right, double bottom, Rgb color)
    {
        ReadOnlySpan<Vec2> quad = [new(left, top), new(right, top), new(right, bottom), new(left, bottom)];
        FillConvexPolygon(quad, color);
    }

    private static bool IntersectScanline(ReadOnlySpan<Vec2> points, double y, out double left, out double right)
    {
        left = double.MaxValue;
        right = double.MinValue;
        var previous = points[^1];
        foreach (var current in points)
        {
            var (y0, y1) = (previous.Y, current.Y);
            if ((y0 <= y && y < y1) || (y1 <= y && y < y0))
            {
                var x = previous.X + (y - y0) * (current.X - previous.X) / (y1 - y0);
                left = Math.Min(left, x);
                right = Math.Max(right, x);
            }
            previous = current;
        }
        return right >= left;
    }

    private void AccumulateSpan(double left, double right, float weight, ref int spanStart, ref int spanEnd)
    {
        var first = (int)left;
        var last = Math.Min((int)Math.Ceiling(right) - 1, Width - 1);
        if (first == last)
        {
            _coverage[first] += (float)(right - left) * weight;
        }
        else
        {
            _coverage[first] += (float)(first + 1 - left) * weight;
            for (var x = first + 1; x < last; x++) _coverage[x] += weight;
            _coverage[last] += (float)(right - last) * weight;
        }
        spanStart = Math.Min(spanStart, first);
        spanEnd = Math.Max(spanEnd, last);
    }

    private void BlendRow(int row, int spanStart, int spanEnd, Rgb color)
    {
        var rowPixels = _pixels.Slice(row * Width * 3, Width * 3);
        for (var x = spanStart; x <= spanEnd; x++)
        {
            var c = _coverage[x];
            _coverage[x] = 0;
            if (c <= 0) continue;
            var i = x * 3;
            if (c >= FullCoverage)
            {
                rowPixels[i] = color.R;
                rowPixels[i + 1] = color.G;
                rowPixels[i + 2] = color.B;
            }
            else
            {
                rowPixels[i] = (byte)(rowPixels[i] + (color.R - rowPixels[i]) * c + 0.5f);
                rowPixels[i + 1] = (byte)(rowPixels[i + 1] + (color.G - rowPixels[i + 1]) * c + 0.5f);
                rowPixels[i + 2] = (byte)(rowPixels[i + 2] + (color.B - rowPixels[i + 2]) * c + 0.5f);
            }
        }
    }
}
