using VlmRm.Envs.ClassicControl;
using VlmRm.Envs.Imaging;
using VlmRm.Envs.Rendering;
using VlmRm.TestSupport;

namespace VlmRm.Envs.Tests;

/// <summary>
/// Pixel probes at positions worked out from Gymnasium's renderer geometry, so a pole or car drawn in the
/// wrong place fails; every test also leaves its frame as a PNG in artifacts/test-output/envs.
/// </summary>
public class RenderingTests
{
    private static readonly string Artifacts = TestPaths.ArtifactsDirectory("envs");

    private static Rgb Pixel(byte[] rgb, int width, double x, double y)
    {
        var i = ((int)y * width + (int)x) * 3;
        return new Rgb(rgb[i], rgb[i + 1], rgb[i + 2]);
    }

    private static byte[] RenderCartPole(CartPoleState state, int width = 600, int height = 400, string? name = null)
    {
        var renderer = new CartPoleRenderer(width, height);
        var rgb = new byte[width * height * 3];
        renderer.Render(state, rgb);
        if (name is not null) Png.WriteRgb(Path.Combine(Artifacts, name), rgb, width, height);
        return rgb;
    }

    [Fact]
    public void CartPole_upright_at_centre_draws_cart_pole_and_track_where_gymnasium_does()
    {
        var rgb = RenderCartPole(new CartPoleState(0, 0, 0, 0), name: "cartpole-upright-600x400.png");
        // Cart: scene x 275..325, y 85..115 -> image rows 285..315 after the flip.
        Assert.Equal(Rgb.Black, Pixel(rgb, 600, 290, 310));
        Assert.Equal(Rgb.White, Pixel(rgb, 600, 270, 310));
        // Pole: scene x 295..305 from y 102.5 up to 227.5 -> image rows 172.5..297.5.
        Assert.Equal(CartPoleRenderer.PoleColor, Pixel(rgb, 600, 300, 230));
        Assert.Equal(CartPoleRenderer.PoleColor, Pixel(rgb, 600, 300, 176));
        Assert.Equal(Rgb.White, Pixel(rgb, 600, 300, 168));
        Assert.Equal(Rgb.White, Pixel(rgb, 600, 312, 230));
        // Axle at scene (300, 107) radius 5.
        Assert.Equal(CartPoleRenderer.AxleColor, Pixel(rgb, 600, 300, 292));
        // Track: one black row (scene row 100 -> image row 299) across the whole frame.
        Assert.Equal(Rgb.Black, Pixel(rgb, 600, 10, 299));
        Assert.Equal(Rgb.White, Pixel(rgb, 600, 10, 297));
        Assert.Equal(Rgb.White, Pixel(rgb, 600, 10, 301));
    }

    [Theory]
    [InlineData(0.6)]
    [InlineData(-0.9)]
    [InlineData(1.8)]
    public void CartPole_pole_leans_by_theta(double theta)
    {
        var rgb = RenderCartPole(new CartPoleState(0, 0, theta, 0), name: $"cartpole-theta{theta:+0.0;-0.0}.png");
        // 80 px along the pole from the axle (scene (300, 107.5)); positive theta leans right.
        var x = 300 + 80 * Math.Sin(theta);
        var y = 400 - (107.5 + 80 * Math.Cos(theta));
        Assert.Equal(CartPoleRenderer.PoleColor, Pixel(rgb, 600, x, y));
        Assert.NotEqual(CartPoleRenderer.PoleColor, Pixel(rgb, 600, 300, 400 - 187.5));
    }

    [Fact]
    public void CartPole_cart_moves_with_x()
    {
        var rgb = RenderCartPole(new CartPoleState(1.0, 0, 0, 0), name: "cartpole-x+1.png");
        Assert.Equal(Rgb.Black, Pixel(rgb, 600, 425, 310)); // 1.0 * 125 + 300
        Assert.Equal(Rgb.White, Pixel(rgb, 600, 300, 310));
        Assert.Equal(CartPoleRenderer.PoleColor, Pixel(rgb, 600, 425, 230));
    }

    [Fact]
    public void CartPole_at_224_shows_the_whole_track_letterboxed()
    {
        // Contain scaling: scale 224/600, the 224×149.3 scene centred vertically (offset 37.3); CLIP's centre crop of a
        // native frame would lose the track's ends.
        const double scale = 224 / 600.0, top = (224 - 400 * scale) / 2;
        var rgb = RenderCartPole(new CartPoleState(0, 0, 0, 0), 224, 224, "cartpole-upright-224.png");
        Assert.Equal(CartPoleRenderer.PoleColor, Pixel(rgb, 224, 112, top + (400 - 187.5) * scale));
        Assert.Equal(Rgb.Black, Pixel(rgb, 224, 112 - 5, top + (400 - 95) * scale));
        Assert.Equal(Rgb.White, Pixel(rgb, 224, 112 + 20, top + (400 - 187.5) * scale));

        // At the end of the track (x = 2.2, the cart's right edge at scene x 600) the cart is still in the picture.
        var atEnd = RenderCartPole(new CartPoleState(2.2, 0, 0, 0), 224, 224, "cartpole-x2.2-224.png");
        Assert.Equal(Rgb.Black, Pixel(atEnd, 224, CartPoleRenderer.CartSceneX(2.2) * scale, top + (400 - 95) * scale));
        Assert.Equal(Rgb.White, Pixel(atEnd, 224, 112, top + (400 - 95) * scale));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MountainCar_at_224_shows_the_goal_flag_and_the_left_hill(bool textured)
    {
        using var env = new MountainCarContinuousEnv(new MountainCarOptions
        {
            Look = textured ? MountainCarLook.Textured : MountainCarLook.Plain, RenderWidth = 224, RenderHeight = 224,
        });
        const double scale = 224 / 600.0, top = (224 - 400 * scale) / 2;
        var frames = new Dictionary<double, byte[]>();
        foreach (var position in new[] { -1.15, 0.0, 0.55 })
        {
            env.State = new MountainCarState(position, 0);
            frames[position] = new byte[224 * 224 * 3];
            env.Render(frames[position]);
            Png.WriteRgb(Path.Combine(Artifacts, $"mountaincar-{(textured ? "textured-" : "")}x{position:+0.00;-0.00}-224.png"), frames[position], 224, 224);
        }
        // The car is drawn where it is at both ends of the track: the frames differ there and nowhere near the other end.
        int Differences(byte[] a, byte[] b, double fromX, double toX)
        {
            var count = 0;
            for (var y = 0; y < 224; y++)
            {
                for (var x = (int)fromX; x < (int)toX; x++)
                {
                    var i = (y * 224 + x) * 3;
                    if (a[i] != b[i] || a[i + 1] != b[i + 1] || a[i + 2] != b[i + 2]) count++;
                }
            }
            return count;
        }
        var goalX = (0.55 + 1.2) * MountainCarRenderer.Scale * scale;
        var leftX = (-1.15 + 1.2) * MountainCarRenderer.Scale * scale;
        Assert.True(Differences(frames[0.55], frames[0.0], goalX - 6, Math.Min(224, goalX + 6)) > 20, "the car at the goal is not in the picture");
        Assert.True(Differences(frames[-1.15], frames[0.0], 0, leftX + 6) > 20, "the car on the left hill is not in the picture");
        // The yellow flag at the goal is in the picture.
        var flagX = (0.45 + 1.2) * MountainCarRenderer.Scale * scale;
        var flagY = top + (400 - MountainCarContinuousEnv.Height(0.45) * MountainCarRenderer.Scale - 45) * scale;
        var yellow = 0;
        for (var y = (int)flagY - 10; y <= (int)flagY + 10; y++)
        {
            for (var x = (int)flagX - 2; x <= Math.Min(223, (int)flagX + 14); x++)
            {
                var p = Pixel(frames[0.0], 224, x, y);
                if (p.R > 150 && p.G > 150 && p.B < 100) yellow++;
            }
        }
        Assert.True(yellow >= 3, $"{yellow} yellow pixels where the flag should be");
    }

    [Fact]
    public void MountainCar_draws_car_on_the_hill_and_the_flag_where_gymnasium_does()
    {
        using var env = new MountainCarContinuousEnv();
        env.State = new MountainCarState(-0.5, 0);
        var rgb = new byte[600 * 400 * 3];
        env.Render(rgb);
        Png.WriteRgb(Path.Combine(Artifacts, "mountaincar-600x400.png"), rgb, 600, 400);

        var angle = Math.Cos(3 * -0.5);
        var baseX = (-0.5 + 1.2) * MountainCarRenderer.Scale;
        var baseY = 10 + MountainCarContinuousEnv.Height(-0.5) * MountainCarRenderer.Scale;
        // Middle of the car box: local (0, 10) rotated by cos(3x).
        var carX = baseX - 10 * Math.Sin(angle);
        var carY = 400 - (baseY + 10 * Math.Cos(angle));
        Assert.Equal(Rgb.Black, Pixel(rgb, 600, carX, carY));
        // Far above the car: sky (white in Gymnasium's look).
        Assert.Equal(Rgb.White, Pixel(rgb, 600, carX, carY - 60));

        var (flagX, _, flagTop) = MountainCarRenderer.FlagScene();
        Assert.Equal(MountainCarRenderer.FlagColor, Pixel(rgb, 600, flagX + 8, 400 - (flagTop - 5)));
        Assert.Equal(Rgb.Black, Pixel(rgb, 600, flagX, 400 - (flagTop - 25)));
    }

    [Fact]
    public void MountainCar_hill_curve_is_drawn()
    {
        using var env = new MountainCarContinuousEnv();
        env.State = new MountainCarState(-0.5, 0);
        var rgb = new byte[600 * 400 * 3];
        env.Render(rgb);
        // At x = -1.0 (far from the car) the curve passes through scene y = height(-1) * scale.
        var x = (-1.0 + 1.2) * MountainCarRenderer.Scale;
        var y = 400 - MountainCarContinuousEnv.Height(-1.0) * MountainCarRenderer.Scale;
        var darkest = Enumerable.Range(-1, 3).Select(d => Pixel(rgb, 600, x, y + d).R).Min();
        Assert.True(darkest < 128, $"no curve near ({x:F1}, {y:F1})");
    }

    [Fact]
    public void Textured_MountainCar_has_sky_mountain_flag_and_a_red_car()
    {
        using var env = new MountainCarContinuousEnv(new MountainCarOptions { Look = MountainCarLook.Textured });
        env.State = new MountainCarState(-0.3, 0);
        var rgb = new byte[600 * 400 * 3];
        env.Render(rgb);
        Png.WriteRgb(Path.Combine(Artifacts, "mountaincar-textured-600x400.png"), rgb, 600, 400);

        var sky = Pixel(rgb, 600, 300, 20);
        Assert.True(sky.B > sky.R + 40, $"sky should be blue, got {sky}");
        var ground = Pixel(rgb, 600, 80, 395);
        Assert.False(ground.B > ground.R + 40, $"bottom of the mountain should not be sky, got {ground}");
        var (carX, carY) = TexturedMountainCarRenderer.CarCentreScene(-0.3);
        var car = Pixel(rgb, 600, carX, 400 - carY);
        Assert.True(car.R > 150 && car.G < 80, $"car body should be red, got {car}");
        var goalX = (0.45 + 1.2) * MountainCarRenderer.Scale;
        var flagTop = MountainCarContinuousEnv.Height(0.45) * MountainCarRenderer.Scale + 50;
        var flag = Pixel(rgb, 600, goalX + 15, 400 - (flagTop - 9));
        Assert.True(flag.R > 200 && flag.G > 180 && flag.B < 100, $"flag should be yellow, got {flag}");
    }

    [Fact]
    public void Textured_MountainCar_with_the_papers_assets_when_present()
    {
        var assets = TestPaths.PaperAssetsDirectory;
        Assert.SkipWhen(assets is null, "the paper's reference assets (../shared/assets/vlmrm) are not on this machine");
        using var env = new MountainCarContinuousEnv(new MountainCarOptions { Look = MountainCarLook.Textured, AssetsDirectory = assets });
        env.State = new MountainCarState(-0.3, 0);
        var rgb = new byte[600 * 400 * 3];
        env.Render(rgb);
        Png.WriteRgb(Path.Combine(Artifacts, "mountaincar-textured-paper-assets.png"), rgb, 600, 400);
        var sky = Pixel(rgb, 600, 300, 20);
        Assert.True(sky.B > sky.R + 40, $"sky should be blue, got {sky}");
        var background = Png.Read(Path.Combine(assets, TexturedMountainCarRenderer.BackgroundFile));
        // Far from the car the frame is the background image itself.
        var i = (20 * 600 + 300) * 4;
        Assert.Equal(background.Pixels[i], sky.R);
    }

    [Fact]
    public void Missing_texture_file_names_the_file()
    {
        var empty = Directory.CreateTempSubdirectory("vlmrm-assets-").FullName;
        var error = Assert.Throws<FileNotFoundException>(() =>
            new MountainCarContinuousEnv(new MountainCarOptions { Look = MountainCarLook.Textured, AssetsDirectory = empty }));
        Assert.Contains(TexturedMountainCarRenderer.BackgroundFile, error.Message);
    }

    [Theory]
    [InlineData("CartPole", 224, 224)]
    [InlineData("MountainCar", 224, 224)]
    [InlineData("MountainCarTextured", 224, 224)]
    [InlineData("MountainCarTextured", 300, 120)]
    public void Every_env_renders_at_a_configured_size(string id, int width, int height)
    {
        using var env = EnvRegistry.Make(id, new EnvOptions { RenderWidth = width, RenderHeight = height });
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(1, observation);
        var rgb = new byte[env.Spec.FrameBytes];
        env.Render(rgb);
        Png.WriteRgb(Path.Combine(Artifacts, $"{id}-{width}x{height}.png"), rgb, width, height);
        Assert.Contains(rgb, b => b < 200); // something other than blank white was drawn
    }
}
