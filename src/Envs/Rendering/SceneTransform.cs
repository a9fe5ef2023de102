namespace VlmRm.Envs.Rendering;

/// <summary>
/// Maps Gymnasium's classic-control scene (a 600×400 canvas, y up, flipped at the end) onto an output
/// image of any size. The scene is scaled to cover the output and centered, which is exactly what
/// CLIP's eval transform (shorter side resize, center crop) does to a native 600×400 frame, so a
/// 224×224 render shows CLIP the same content it would see from the native frame.
/// </summary>
public readonly record struct SceneTransform(double Scale, double OffsetX, double OffsetY, double SceneHeight)
{
    public static SceneTransform Cover(double sceneWidth, double sceneHeight, int width, int height)
    {
        var scale = Math.Max(width / sceneWidth, height / sceneHeight);
        return new SceneTransform(
            scale,
            (width - sceneWidth * scale) / 2,
            (height - sceneHeight * scale) / 2,
            sceneHeight);
    }

    /// <summary>Scene point (pygame coordinates before the vertical flip) to output pixel coordinates.</summary>
    public Vec2 Map(double x, double y) => new(OffsetX + x * Scale, OffsetY + (SceneHeight - y) * Scale);
}
