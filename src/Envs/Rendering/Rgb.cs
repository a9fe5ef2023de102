namespace VlmRm.Envs.Rendering;

public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);
    public static readonly Rgb Black = new(0, 0, 0);

    public static Rgb Lerp(Rgb a, Rgb b, double t)
    {
        t = Math.Clamp(t, 0, 1);
        return new Rgb(
            (byte)(a.R + (b.R - a.R) * t + 0.5),
            (byte)(a.G + (b.G - a.G) * t + 0.5),
            (byte)(a.B + (b.B - a.B) * t + 0.5));
    }

    public Rgb Scale(double factor) => new(
        (byte)Math.Clamp(R * factor + 0.5, 0, 255),
        (byte)Math.Clamp(G * factor + 0.5, 0, 255),
        (byte)Math.Clamp(B * factor + 0.5, 0, 255));
}

/// <summary>A point in pixel space (x right, y down).</summary>
public readonly record struct Vec2(double X, double Y);
