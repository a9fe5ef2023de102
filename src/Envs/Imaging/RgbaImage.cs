namespace VlmRm.Envs.Imaging;

/// <summary>An 8-bit RGBA image held in one row-major array.</summary>
public sealed class RgbaImage
{
    public RgbaImage(int width, int height, byte[] pixels)
    {
        if (pixels.Length != width * height * 4)
        {
            throw new ArgumentException($"RGBA buffer has {pixels.Length} bytes; {width}×{height} needs {width * height * 4}.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    /// <summary>The pixels without alpha, as renderers and CLIP take them.</summary>
    public byte[] ToRgb()
    {
        var rgb = new byte[Width * Height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = Pixels[j];
            rgb[i + 1] = Pixels[j + 1];
            rgb[i + 2] = Pixels[j + 2];
        }
        return rgb;
    }

    /// <summary>Bilinear sample at continuous pixel coordinates (pixel centres at +0.5); outside the image is transparent.</summary>
    public (float R, float G, float B, float A) Sample(double x, double y)
    {
        x -= 0.5;
        y -= 0.5;
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        var fx = (float)(x - x0);
        var fy = (float)(y - y0);
        float r = 0, g = 0, b = 0, a = 0;
        Accumulate(x0, y0, (1 - fx) * (1 - fy), ref r, ref g, ref b, ref a);
        Accumulate(x0 + 1, y0, fx * (1 - fy), ref r, ref g, ref b, ref a);
        Accumulate(x0, y0 + 1, (1 - fx) * fy, ref r, ref g, ref b, ref a);
        Accumulate(x0 + 1, y0 + 1, fx * fy, ref r, ref g, ref b, ref a);
        // Colours were accumulated premultiplied so transparent texels do not bleed into edges.
        return a > 0 ? (r / a, g / a, b / a, a / 255f) : (0, 0, 0, 0);
    }

    private void Accumulate(int x, int y, float weight, ref float r, ref float g, ref float b, ref float a)
    {
        // Texels outside contribute nothing; dividing by the summed alpha renormalizes the edge.
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        var i = (y * Width + x) * 4;
        var alpha = Pixels[i + 3] * weight;
        r += Pixels[i] * alpha;
        g += Pixels[i + 1] * alpha;
        b += Pixels[i + 2] * alpha;
        a += alpha;
    }
}
