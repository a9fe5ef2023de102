using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.ClassicControl;

/// <summary>
/// What every classic-control renderer shares: Gymnasium's 600×400 scene drawn whole onto an output of any
/// size (<see cref="SceneTransform.Contain"/>), and the rasterizer's coverage scratch row.
/// </summary>
public abstract class ClassicControlRenderer
{
    public const int NativeWidth = 600;
    public const int NativeHeight = 400;

    protected ClassicControlRenderer(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 8);
        Width = width;
        Height = height;
        Coverage = new float[width + 1];
        Transform = SceneTransform.Contain(NativeWidth, NativeHeight, width, height);
    }

    public int Width { get; }
    public int Height { get; }

    protected float[] Coverage { get; }
    protected SceneTransform Transform { get; }

    protected RgbCanvas Canvas(Span<byte> rgb) => new(rgb, Width, Height, Coverage);
}
