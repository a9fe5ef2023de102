using VlmRm.Envs.Imaging;
using VlmRm.Envs.Mujoco;
using VlmRm.TestSupport;

namespace VlmRm.Envs.Tests;

/// <summary>
/// MuJoCo's two offscreen backends. EGL is exercised here through Mesa's surfaceless platform (llvmpipe on the CPU,
/// as OSMesa), the same code path a GPU node takes with its driver's EGL device.
/// </summary>
public class RenderBackendTests
{
    [Fact]
    public void Egl_and_osmesa_render_the_same_humanoid_frame()
    {
        var frames = new Dictionary<RenderBackend, byte[]>();
        foreach (var backend in new[] { RenderBackend.Egl, RenderBackend.Osmesa })
        {
            using var env = new HumanoidEnv(new HumanoidOptions { RenderWidth = 160, RenderHeight = 120, Backend = backend });
            Assert.Equal(backend, env.Backend);
            env.Reset(3, new float[env.Spec.ObservationSize]);
            frames[backend] = new byte[env.Spec.FrameBytes];
            env.Render(frames[backend]);
            Png.WriteRgb(Path.Combine(TestPaths.ArtifactsDirectory("humanoid"), $"humanoid-{backend.ToString().ToLowerInvariant()}-160x120.png"), frames[backend], 160, 120);
        }
        var (egl, osmesa) = (frames[RenderBackend.Egl], frames[RenderBackend.Osmesa]);
        Assert.True(egl.Distinct().Count() > 20, "the EGL frame is nearly blank");
        var meanDifference = egl.Zip(osmesa, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanDifference < 2, $"EGL and OSMesa frames differ by {meanDifference:F2} levels per channel on average");
    }

    [Theory]
    [InlineData(1, RenderBackend.Egl)]
    [InlineData(0, RenderBackend.Osmesa)]
    [InlineData(-1, RenderBackend.Osmesa)]
    public void Auto_prefers_an_egl_hardware_device_and_falls_back_to_osmesa(int eglStatus, RenderBackend expected) =>
        Assert.Equal(expected, RenderBackends.Resolve(RenderBackend.Auto, null, () => (eglStatus, "libEGL.so.1 is not installed")));

    [Fact]
    public void Mujoco_gl_chooses_for_auto_and_an_unknown_value_is_named()
    {
        Assert.Equal(RenderBackend.Osmesa, RenderBackends.Resolve(RenderBackend.Auto, "osmesa", () => (1, "")));
        Assert.Equal(RenderBackend.Egl, RenderBackends.Resolve(RenderBackend.Auto, "EGL", () => (0, "")));
        Assert.Equal(RenderBackend.Osmesa, RenderBackends.Resolve(RenderBackend.Osmesa, "egl", () => (1, "")));
        var error = Assert.Throws<InvalidOperationException>(() => RenderBackends.Resolve(RenderBackend.Auto, "glfw", () => (1, "")));
        Assert.Contains("MUJOCO_GL=glfw: VlmRm renders MuJoCo with egl or osmesa", error.Message);
    }

    [Fact]
    public void Egl_asked_for_where_none_exists_names_what_is_missing_and_the_backend_that_works()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RenderBackends.Resolve(RenderBackend.Egl, null, () => (-1, "libEGL.so.1 is not installed (apt install libegl1 libegl-mesa0)")));
        Assert.Contains("EGL cannot render here: libEGL.so.1 is not installed (apt install libegl1 libegl-mesa0)", error.Message);
        Assert.Contains("The osmesa backend renders on the CPU without EGL", error.Message);
    }
}
