using VlmRm.Envs.Imaging;
using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.ClassicControl;

/// <summary>
/// The paper's "more realistic" MountainCar (Fig. 2c): a sky, a rocky mountain with grassy lower
/// slopes, a car that looks like a car, and a yellow flag at the peak. The car sits on the hill as in
/// the paper's code: centred at ((x − min)·scale, 15 + height(x)·scale), rotated by the slope angle
/// atan(1.35·cos 3x). The static scene is drawn once per renderer; a frame copies it and draws the car.
/// </summary>
public static class TexturedMountainCarRenderer
{
    public const string BackgroundFile = "mountain_car_background.png";
    public const string CarFile = "mountain_car.png";

    /// <summary>
    /// With an assets folder holding the paper's texture files those are used; otherwise textures are
    /// generated procedurally.
    /// </summary>
    public static IMountainCarRenderer Create(int width, int height, string? assetsDirectory)
    {
        if (assetsDirectory is null) return new ProceduralTexturedMountainCarRenderer(width, height);
        var background = Path.Combine(assetsDirectory, BackgroundFile);
        var car = Path.Combine(assetsDirectory, CarFile);
        foreach (var file in new[] { background, car })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"Textured MountainCar needs {Path.GetFileName(file)} in the assets directory '{assetsDirectory}', which does not have it.", file);
            }
        }
        return new SpriteMountainCarRenderer(width, height, Png.Read(background), Png.Read(car));
    }

    public static double SlopeAngle(double position) => Math.Atan(Math.Cos(3 * position) * 0.45 * 3);

    /// <summary>Scene coordinates of the car's centre.</summary>
    public static (double X, double Y) CarCentreScene(double position) =>
        ((position - MountainCarContinuousEnv.MinPosition) * MountainCarRenderer.Scale,
         15 + MountainCarContinuousEnv.Height(position) * MountainCarRenderer.Scale);
}

/// <summary>Procedurally textured scene, built from value noise; nothing is read from disk.</summary>
internal sealed class ProceduralTexturedMountainCarRenderer : ClassicControlRenderer, IMountainCarRenderer
{
    private static readonly Rgb SkyTop = new(38, 104, 178);
    private static readonly Rgb SkyHorizon = new(150, 196, 232);
    private static readonly Rgb RockLight = new(196, 194, 190);
    private static readonly Rgb RockDark = new(92, 90, 92);
    private static readonly Rgb GrassLight = new(120, 170, 70);
    private static readonly Rgb GrassDark = new(52, 104, 44);
    private static readonly Rgb Snow = new(245, 247, 250);
    private static readonly Rgb CarBody = new(196, 30, 36);
    private static readonly Rgb CarBodyShade = new(140, 18, 24);
    private static readonly Rgb Glass = new(170, 210, 235);
    private static readonly Rgb Tyre = new(24, 24, 26);
    private static readonly Rgb Hub = new(180, 182, 188);
    private static readonly Rgb FlagYellow = new(250, 220, 20);
    private static readonly Rgb FlagPole = new(120, 120, 120);

    private readonly byte[] _background;

    public ProceduralTexturedMountainCarRenderer(int width, int height) : base(width, height)
    {
        _background = new byte[width * height * 3];
        PaintLandscape(_background);
        DrawFlag(Canvas(_background));
    }

    public void Render(MountainCarState state, Span<byte> rgb)
    {
        _background.CopyTo(rgb);
        DrawCar(Canvas(rgb), state.Position);
    }

    private void PaintLandscape(Span<byte> rgb)
    {
        var t = Transform;
        var rock = new ValueNoise(11);
        var grass = new ValueNoise(23);
        var cloud = new ValueNoise(37);
        for (var py = 0; py < Height; py++)
        {
            for (var px = 0; px < Width; px++)
            {
                // Back to scene coordinates (y up) so the texture is the same at every output size.
                var sx = (px + 0.5 - t.OffsetX) / t.Scale;
                var sy = t.SceneHeight - (py + 0.5 - t.OffsetY) / t.Scale;
                var position = MountainCarContinuousEnv.MinPosition + sx / MountainCarRenderer.Scale;
                var ground = MountainCarContinuousEnv.Height(position) * MountainCarRenderer.Scale;
                Rgb color;
                if (sy > ground)
                {
                    var haze = Math.Clamp(1 - sy / 400, 0, 1);
                    color = Rgb.Lerp(SkyTop, SkyHorizon, haze * haze);
                    var c = cloud.Fractal(sx / 90, sy / 30, 4);
                    if (c > 0.62) color = Rgb.Lerp(color, Rgb.White, Math.Min(1, (c - 0.62) * 3));
                }
                else
                {
                    var depth = ground - sy;
                    var detail = rock.Fractal(sx / 22, sy / 14, 5);
                    var strata = rock.Fractal(sx / 120 + sy / 40, sy / 6, 3);
                    color = Rgb.Lerp(RockDark, RockLight, detail * 0.7 + strata * 0.3);
                    // Light comes from the upper left: slopes facing left are brighter.
                    var slope = Math.Cos(3 * position);
                    color = color.Scale(1 + 0.18 * Math.Clamp(-slope, -1, 1));
                    color = color.Scale(1 - Math.Min(0.35, depth / 900));
                    var grassLine = 150 + 60 * grass.Fractal(sx / 60, 0.5, 3);
                    if (sy < grassLine)
                    {
                        var g = grass.Fractal(sx / 8, sy / 8, 4);
                        var meadow = Rgb.Lerp(GrassDark, GrassLight, g);
                        color = Rgb.Lerp(color, meadow, Math.Clamp((grassLine - sy) / 25, 0, 1));
                    }
                    if (sy > 365 && detail > 0.55) color = Rgb.Lerp(color, Snow, Math.Clamp((sy - 365) / 20, 0, 1));
                }
                var i = (py * Width + px) * 3;
                rgb[i] = color.R;
                rgb[i + 1] = color.G;
                rgb[i + 2] = color.B;
            }
        }
    }

    private void DrawFlag(RgbCanvas canvas)
    {
        var t = Transform;
        var goalX = (MountainCarContinuousEnv.GoalPosition - MountainCarContinuousEnv.MinPosition) * MountainCarRenderer.Scale;
        var goalY = MountainCarContinuousEnv.Height(MountainCarContinuousEnv.GoalPosition) * MountainCarRenderer.Scale;
        var top = goalY + 50;
        canvas.DrawLine(t.Map(goalX, goalY - 4), t.Map(goalX, top), 3 * t.Scale, FlagPole);
        ReadOnlySpan<Vec2> flag =
        [
            t.Map(goalX + 1, top), t.Map(goalX + 30, top - 3), t.Map(goalX + 30, top - 19), t.Map(goalX + 1, top - 16),
        ];
        canvas.FillConvexPolygon(flag, FlagYellow);
    }

    private void DrawCar(RgbCanvas canvas, double position)
    {
        var t = Transform;
        var (cx, cy) = TexturedMountainCarRenderer.CarCentreScene(position);
        var angle = TexturedMountainCarRenderer.SlopeAngle(position);
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        Vec2 Place(double x, double y) => t.Map(cx + x * cos - y * sin, cy + x * sin + y * cos);

        // Car-local scene units, y up, centre at the origin; 70×33 like the paper's sprite.
        Span<Vec2> shape = stackalloc Vec2[6];
        shape[0] = Place(-35, -8); shape[1] = Place(-35, 2); shape[2] = Place(-30, 5);
        shape[3] = Place(33, 5); shape[4] = Place(35, 1); shape[5] = Place(35, -8);
        canvas.FillConvexPolygon(shape, CarBody);
        shape[0] = Place(-35, -8); shape[1] = Place(-35, -4); shape[2] = Place(35, -4); shape[3] = Place(35, -8);
        canvas.FillConvexPolygon(shape[..4], CarBodyShade);
        shape[0] = Place(-20, 5); shape[1] = Place(-12, 16); shape[2] = Place(12, 16); shape[3] = Place(22, 5);
        canvas.FillConvexPolygon(shape[..4], CarBody);
        shape[0] = Place(-16, 6); shape[1] = Place(-10, 14); shape[2] = Place(-1, 14); shape[3] = Place(-1, 6);
        canvas.FillConvexPolygon(shape[..4], Glass);
        shape[0] = Place(2, 6); shape[1] = Place(2, 14); shape[2] = Place(10.5, 14); shape[3] = Place(18, 6);
        canvas.FillConvexPolygon(shape[..4], Glass);
        for (var side = -1; side <= 1; side += 2)
        {
            var centre = Place(21 * side, -8);
            canvas.FillCircle(centre, 8 * t.Scale, Tyre);
            canvas.FillCircle(centre, 4 * t.Scale, Hub);
        }
    }
}

/// <summary>The paper's own texture files: the background image and the car sprite, alpha-blended.</summary>
internal sealed class SpriteMountainCarRenderer : ClassicControlRenderer, IMountainCarRenderer
{
    private readonly byte[] _background;
    private readonly RgbaImage _car;

    public SpriteMountainCarRenderer(int width, int height, RgbaImage background, RgbaImage car) : base(width, height)
    {
        _car = car;
        _background = new byte[width * height * 3];
        var scaleX = background.Width / (double)MountainCarRenderer.NativeWidth;
        var scaleY = background.Height / (double)MountainCarRenderer.NativeHeight;
        for (var py = 0; py < height; py++)
        {
            for (var px = 0; px < width; px++)
            {
                // Margins outside the scene repeat its edge: the sky goes on above, the mountain below.
                var sx = Math.Clamp((px + 0.5 - Transform.OffsetX) / Transform.Scale, 0.5 / scaleX, MountainCarRenderer.NativeWidth - 0.5 / scaleX);
                var sy = Math.Clamp((py + 0.5 - Transform.OffsetY) / Transform.Scale, 0.5 / scaleY, MountainCarRenderer.NativeHeight - 0.5 / scaleY);
                var (r, g, b, _) = background.Sample(sx * scaleX, sy * scaleY);
                var i = (py * width + px) * 3;
                _background[i] = (byte)(r + 0.5f);
                _background[i + 1] = (byte)(g + 0.5f);
                _background[i + 2] = (byte)(b + 0.5f);
            }
        }
    }

    public void Render(MountainCarState state, Span<byte> rgb)
    {
        _background.CopyTo(rgb);
        var t = Transform;
        var (cx, cy) = TexturedMountainCarRenderer.CarCentreScene(state.Position);
        var centre = t.Map(cx, cy);
        // Image rows grow downwards, so a counter-clockwise scene rotation is clockwise on screen.
        var angle = -TexturedMountainCarRenderer.SlopeAngle(state.Position);
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        var halfDiagonal = 0.5 * Math.Sqrt(_car.Width * _car.Width + _car.Height * _car.Height) * t.Scale;
        var x0 = Math.Max(0, (int)(centre.X - halfDiagonal));
        var x1 = Math.Min(Width - 1, (int)(centre.X + halfDiagonal) + 1);
        var y0 = Math.Max(0, (int)(centre.Y - halfDiagonal));
        var y1 = Math.Min(Height - 1, (int)(centre.Y + halfDiagonal) + 1);
        for (var py = y0; py <= y1; py++)
        {
            for (var px = x0; px <= x1; px++)
            {
                var dx = (px + 0.5 - centre.X) / t.Scale;
                var dy = (py + 0.5 - centre.Y) / t.Scale;
                // Inverse rotation into the sprite's frame.
                var u = dx * cos + dy * sin + _car.Width / 2.0;
                var v = -dx * sin + dy * cos + _car.Height / 2.0;
                if (u < -1 || v < -1 || u > _car.Width + 1 || v > _car.Height + 1) continue;
                var (r, g, b, a) = _car.Sample(u, v);
                if (a <= 0) continue;
                var i = (py * Width + px) * 3;
                rgb[i] = (byte)(rgb[i] + (r - rgb[i]) * a + 0.5f);
                rgb[i + 1] = (byte)(rgb[i + 1] + (g - rgb[i + 1]) * a + 0.5f);
                rgb[i + 2] = (byte)(rgb[i + 2] + (b - rgb[i + 2]) * a + 0.5f);
            }
        }
    }
}
