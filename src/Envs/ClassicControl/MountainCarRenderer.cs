using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.ClassicControl;

public interface IMountainCarRenderer
{
    int Width { get; }
    int Height { get; }
    void Render(MountainCarState state, Span<byte> rgb);
}

/// <summary>
/// Gymnasium's MountainCar renderer (classic_control/continuous_mountain_car.py): the hill as a
/// 100-point polyline, a black car box rotated by cos(3x), two grey wheels and a yellow flag.
/// </summary>
public sealed class MountainCarRenderer : ClassicControlRenderer, IMountainCarRenderer
{    public const double WorldWidth = MountainCarContinuousEnv.MaxPosition - MountainCarContinuousEnv.MinPosition;
    public const double Scale = NativeWidth / WorldWidth;
    public const double CarWidth = 40;
    public const double CarHeight = 20;
    public const double Clearance = 10;

    public static readonly Rgb WheelColor = new(128, 128, 128);
    public static readonly Rgb FlagColor = new(204, 204, 0);

    private const int CurvePoints = 100;

    private readonly byte[] _background;

    public MountainCarRenderer(int width, int height) : base(width, height)
    {
        // The hill and the flag never move: draw them once and copy them under every frame.
        _background = new byte[width * height * 3];
        DrawStaticScene(Canvas(_background));
    }

    /// <summary>Scene coordinates of the flag: pole x, pole bottom y, pole top y (ints, as Gymnasium casts them).</summary>
    public static (int X, int Bottom, int Top) FlagScene()
    {
        var flagX = (int)((MountainCarContinuousEnv.GoalPosition - MountainCarContinuousEnv.MinPosition) * Scale);
        var flagY1 = (int)(MountainCarContinuousEnv.Height(MountainCarContinuousEnv.GoalPosition) * Scale);
        return (flagX, flagY1, flagY1 + 50);
    }

    public void Render(MountainCarState state, Span<byte> rgb)
    {
        _background.CopyTo(rgb);
        var canvas = Canvas(rgb);
        var t = Transform;
        var pos = state.Position;
        var angle = Math.Cos(3 * pos);
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        var baseX = (pos - MountainCarContinuousEnv.MinPosition) * Scale;
        var baseY = Clearance + MountainCarContinuousEnv.Height(pos) * Scale;

        const double l = -CarWidth / 2, r = CarWidth / 2, top = CarHeight, bottom = 0;
        Vec2 Car(double cx, double cy) => t.Map(cx * cos - cy * sin + baseX, cx * sin + cy * cos + baseY);
        ReadOnlySpan<Vec2> car = [Car(l, bottom), Car(l, top), Car(r, top), Car(r, bottom)];
        canvas.FillConvexPolygon(car, Rgb.Black);

        DrawWheel(canvas, CarWidth / 4, cos, sin, baseX, baseY);
        DrawWheel(canvas, -CarWidth / 4, cos, sin, baseX, baseY);
    }

    private void DrawWheel(RgbCanvas canvas, double offset, double cos, double sin, double baseX, double baseY)
    {
        // gfxdraw circles take integer centres: the pixel's centre after the flip.
        var wx = (int)(offset * cos + baseX);
        var wy = (int)(offset * sin + baseY);
        canvas.FillCircle(Transform.Map(wx + 0.5, wy + 0.5), ((int)(CarHeight / 2.5) + 0.5) * Transform.Scale, WheelColor);
    }

    private void DrawStaticScene(RgbCanvas canvas)
    {
        var t = Transform;
        canvas.Clear(Rgb.White);
        var previous = CurvePoint(0);
        for (var i = 1; i < CurvePoints; i++)
        {
            var next = CurvePoint(i);
            canvas.DrawLine(t.Map(previous.X, previous.Y), t.Map(next.X, next.Y), Math.Max(1, t.Scale), Rgb.Black);
            previous = next;
        }

        var (flagX, flagY1, flagY2) = FlagScene();
        var poleTop = t.Map(flagX, flagY2 + 1);
        var poleBottom = t.Map(flagX + 1, flagY1);
        canvas.FillRectangle(poleTop.X, poleTop.Y, poleBottom.X, poleBottom.Y, Rgb.Black);
        ReadOnlySpan<Vec2> flag = [t.Map(flagX, flagY2), t.Map(flagX, flagY2 - 10), t.Map(flagX + 25, flagY2 - 5)];
        canvas.FillConvexPolygon(flag, FlagColor);
    }

    private static Vec2 CurvePoint(int i)
    {
        var x = MountainCarContinuousEnv.MinPosition + WorldWidth * i / (CurvePoints - 1);
        return new Vec2((x - MountainCarContinuousEnv.MinPosition) * Scale, MountainCarContinuousEnv.Height(x) * Scale);
    }
}
