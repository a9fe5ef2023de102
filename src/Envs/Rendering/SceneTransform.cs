namespace VlmRm.Envs.Rendering;

/// <summary>
/// Maps Gymnasium's classic-control scene (a 600×400 canvas, y up, flipped at the end) onto an output
/// image of any size. The whole scene is scaled to fit the output and centred; the margins show the scene
/// extended (more sky above, more ground below). A square output therefore shows CLIP the whole track:
/// CLIP's eval transform (shorter side resize, centre crop) applied to a native 600×400 frame would keep
/// only its middle 400 columns, which hides the CartPole track's ends (|x| &gt; 1.6) and MountainCar's
/// goal flag and left hill.
/// </summary>
public readonly record struct SceneTransform(double Scale, double OffsetX, double OffsetY, double SceneHeight)
{
    public static SceneTransform Contain(double sceneWidth, double sceneHeight, int width, int height)
    {
        var scale = Math.Min(width / sceneWidth, height / sceneHeight);
        return new SceneTransform(
            scale,
            (width - sceneWidth * scale) / 2,
            (height - sceneHeight * scale) / 2,
            sceneHeight);
    }

    /// <summary>Scene point (pygame coordinates before the vertical flip) to output pixel coordinates.</summary>
    public Vec2 Map(double x, double y) => new(OffsetX + x * Scale, OffsetY + (SceneHeight - y) * Scale);
}
