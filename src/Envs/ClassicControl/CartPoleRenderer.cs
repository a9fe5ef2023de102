using VlmRm.Envs.Rendering;

namespace VlmRm.Envs.ClassicControl;

/// <summary>
/// Gymnasium's CartPole renderer (classic_control/cartpole.py): same geometry and colours, drawn with
/// the project's rasterizer at any output size.
/// </summary>
public sealed class CartPoleRenderer(int width, int height) : ClassicControlRenderer(width, height)
{
    public static readonly Rgb PoleColor = new(202, 152, 101);
    public static readonly Rgb AxleColor = new(129, 132, 203);

    private const double WorldWidth = CartPoleEnv.XThreshold * 2;
    private const double Scale = NativeWidth / WorldWidth;
    private const double PoleWidth = 10.0;
    private const double PoleLength = Scale * (2 * CartPoleEnv.Length);
    private const double CartWidth = 50.0;
    private const double CartHeight = 30.0;
    private const double AxleOffset = CartHeight / 4.0;
    private const double CartY = 100; // top of the cart's axle line in scene coordinates

    /// <summary>Scene x of the cart's centre for a cart position (pixels in the native 600×400 frame).</summary>
    public static double CartSceneX(double x) => x * Scale + NativeWidth / 2.0;

    public void Render(CartPoleState state, Span<byte> rgb)
    {
        var canvas = Canvas(rgb);
        var t = Transform;
        canvas.Clear(Rgb.White);

        var cartX = CartSceneX(state.X);
        const double l = -CartWidth / 2, r = CartWidth / 2, top = CartHeight / 2, bottom = -CartHeight / 2;
        ReadOnlySpan<Vec2> cart =
        [
            t.Map(cartX + l, CartY + bottom), t.Map(cartX + l, CartY + top),
            t.Map(cartX + r, CartY + top), t.Map(cartX + r, CartY + bottom),
        ];
        canvas.FillConvexPolygon(cart, Rgb.Black);

        // pygame's Vector2.rotate_rad(-theta): positive theta leans the pole towards +x.
        const double pl = -PoleWidth / 2, pr = PoleWidth / 2, pt = PoleLength - PoleWidth / 2, pb = -PoleWidth / 2;
        var cos = Math.Cos(-state.Theta);
        var sin = Math.Sin(-state.Theta);
        Vec2 Pole(double cx, double cy) => t.Map(cx * cos - cy * sin + cartX, cx * sin + cy * cos + CartY + AxleOffset);
        ReadOnlySpan<Vec2> pole = [Pole(pl, pb), Pole(pl, pt), Pole(pr, pt), Pole(pr, pb)];
        canvas.FillConvexPolygon(pole, PoleColor);

        // gfxdraw circles take integer centres and radii.
        var axle = t.Map((int)cartX + 0.5, (int)(CartY + AxleOffset) + 0.5);
        canvas.FillCircle(axle, (int)(PoleWidth / 2) * t.Scale + 0.5 * t.Scale, AxleColor);

        // gfxdraw.hline covers pixel row 100 of the unflipped surface.
        var lineTop = t.Map(0, CartY + 1);
        var lineBottom = t.Map(NativeWidth, CartY);
        canvas.FillRectangle(lineTop.X, lineTop.Y, lineBottom.X, lineBottom.Y, Rgb.Black);
    }
}
