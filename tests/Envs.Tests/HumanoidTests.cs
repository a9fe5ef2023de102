using VlmRm.Envs.Imaging;
using VlmRm.Envs.Mujoco;
using VlmRm.TestSupport;

namespace VlmRm.Envs.Tests;

/// <summary>Real MuJoCo (Debian's libmujoco 2.2.2) through the shim, rendered headless on OSMesa.</summary>
public class HumanoidTests
{
    private static readonly string Artifacts = TestPaths.ArtifactsDirectory("humanoid");

    private static string PaperAssets()
    {
        var assets = TestPaths.PaperAssetsDirectory;
        Assert.SkipWhen(assets is null, "the paper's reference assets (../shared/assets/vlmrm) are not on this machine");
        return assets!;
    }

    [Fact]
    public void Paper_model_is_humanoid_v4_376_observations_17_actions_in_04()
    {
        using var env = new HumanoidEnv(new HumanoidOptions { AssetsDirectory = PaperAssets(), RenderWidth = 64, RenderHeight = 64 });
        Assert.Equal(376, env.Spec.ObservationSize);
        var actions = Assert.IsType<BoxSpace>(env.Spec.ActionSpace);
        Assert.Equal(17, actions.FlatSize);
        Assert.All(actions.Low, v => Assert.Equal(-0.4f, v));
        Assert.All(actions.High, v => Assert.Equal(0.4f, v));
        Assert.Equal(0.015, env.Dt, 12); // timestep 0.003 × frame skip 5
        var observation = new float[376];
        env.Reset(0, observation);
        Assert.InRange(observation[0], 1.3f, 1.5f); // qpos z of the torso (x, y excluded)
        Assert.True(env.IsSuccess, "a freshly reset humanoid is standing");
    }

    [Fact]
    public void Default_model_is_debians_humanoid_with_procedural_textures()
    {
        using var env = new HumanoidEnv(new HumanoidOptions { RenderWidth = 64, RenderHeight = 64 });
        Assert.EndsWith("humanoid_procedural.xml", env.ModelPath);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(env.ModelPath)!, "vlmrm_tiles.png")));
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(0, observation);
        Assert.Equal(21, env.Spec.ActionSize);
        Assert.All(observation, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Episodes_last_100_steps_without_termination_even_when_fallen()
    {
        using var env = new HumanoidEnv(new HumanoidOptions { RenderWidth = 32, RenderHeight = 32 });
        var observation = new float[env.Spec.ObservationSize];
        var action = new float[env.Spec.ActionSize];
        var rng = new Rng(1);
        env.Reset(4, observation);
        var unhealthySeen = false;
        for (var t = 1; t <= 100; t++)
        {
            for (var i = 0; i < action.Length; i++) action[i] = (float)rng.Uniform(-1, 1);
            var result = env.Step(action, observation);
            Assert.False(result.Terminated);
            Assert.Equal(t == 100, result.Truncated);
            unhealthySeen |= !env.IsHealthy;
        }
        Assert.True(unhealthySeen, "random actions for 1.5 s make the humanoid fall");
    }

    [Fact]
    public void Same_seed_same_trajectory_and_saved_state_continues_identically()
    {
        float[] Run(int seed, Action<HumanoidEnv>? midway = null)
        {
            using var env = new HumanoidEnv(new HumanoidOptions { RenderWidth = 32, RenderHeight = 32 });
            var observation = new float[env.Spec.ObservationSize];
            var action = new float[env.Spec.ActionSize];
            env.Reset(seed, observation);
            for (var t = 0; t < 30; t++)
            {
                action[t % action.Length] = 0.3f;
                env.Step(action, observation);
                if (t == 10) midway?.Invoke(env);
            }
            return observation;
        }
        var a = Run(7);
        Assert.Equal(a, Run(7));
        Assert.NotEqual(a, Run(8));

        // Snapshot at step 10 of one run, load it into an env that had run another seed: the rest matches.
        byte[] snapshot = [];
        Run(7, env =>
        {
            using var stream = new MemoryStream();
            env.SaveState(new BinaryWriter(stream));
            snapshot = stream.ToArray();
        });
        var resumed = Run(99, env => env.LoadState(new BinaryReader(new MemoryStream(snapshot))));
        Assert.Equal(a, resumed);
    }

    [Fact]
    public void Renders_a_textured_humanoid_on_a_floor_from_a_fixed_camera()
    {
        using var env = new HumanoidEnv(new HumanoidOptions());
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(0, observation);
        var frame = new byte[env.Spec.FrameBytes];
        env.Render(frame);
        Png.WriteRgb(Path.Combine(Artifacts, "humanoid-procedural-480.png"), frame, 480, 480);
        AssertLooksLikeAScene(frame, 480);
    }

    [Fact]
    public void Renders_the_papers_textured_humanoid_when_the_assets_are_present()
    {
        using var env = new HumanoidEnv(new HumanoidOptions { AssetsDirectory = PaperAssets() });
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(0, observation);
        var frame = new byte[env.Spec.FrameBytes];
        env.Render(frame);
        Png.WriteRgb(Path.Combine(Artifacts, "humanoid-paper-assets-480.png"), frame, 480, 480);
        AssertLooksLikeAScene(frame, 480);
    }

    [Fact]
    public void Vectorized_humanoids_render_in_parallel_like_serially()
    {
        using var vec = EnvRegistry.MakeVector("Humanoid", 3, seed: 2, new EnvOptions { RenderWidth = 96, RenderHeight = 96, RenderFlags = new RenderFlags(false, false, true) });
        vec.Reset();
        var serial = new byte[3 * vec.FrameBytes];
        var parallel = new byte[3 * vec.FrameBytes];
        var again = new byte[3 * vec.FrameBytes];
        vec.Render(serial);
        vec.Render(again);
        Assert.Equal(serial, again);
        vec.Render(parallel, maxDegreeOfParallelism: 2);
        Assert.Equal(serial, parallel);
        Assert.NotEqual(serial.AsSpan(0, vec.FrameBytes).ToArray(), serial.AsSpan(vec.FrameBytes, vec.FrameBytes).ToArray()); // different reset noise
    }

    [Fact]
    public void Environments_disposed_on_another_thread_leave_the_render_threads_able_to_draw_new_ones()
    {
        // The render workers outlive a run's environments; disposing those (a grain deactivating) frees their
        // contexts on another thread. The workers then draw the next run's environments (the crash: a worker
        // whose current context had been destroyed elsewhere jumped into freed memory on its next draw).
        var options = new EnvOptions { RenderWidth = 48, RenderHeight = 48, RenderFlags = new RenderFlags(false, false, false) };
        byte[] first;
        using (var run = EnvRegistry.MakeVector("Humanoid", 4, seed: 5, options))
        {
            run.Reset();
            first = new byte[4 * run.FrameBytes];
            run.Render(first, maxDegreeOfParallelism: 2);
        }
        for (var next = 0; next < 3; next++)
        {
            using var run = EnvRegistry.MakeVector("Humanoid", 4, seed: 5, options);
            run.Reset();
            var frames = new byte[4 * run.FrameBytes];
            run.Render(frames, maxDegreeOfParallelism: 2);
            Assert.Equal(first, frames);
        }
    }

    [Fact]
    public void A_broken_mjcf_file_is_a_clear_error_naming_the_file()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-mjcf-").FullName, "broken.xml");
        File.WriteAllText(path, "<mujoco><worldbody><body><geom type='nonsense'/></body></worldbody></mujoco>");
        var error = Assert.Throws<InvalidDataException>(() => new HumanoidEnv(new HumanoidOptions { ModelPath = path }));
        Assert.Contains("MuJoCo cannot load", error.Message);
        Assert.Contains("broken.xml", error.Message);
        var noTorso = Path.Combine(Path.GetDirectoryName(path)!, "box.xml");
        File.WriteAllText(noTorso, "<mujoco><worldbody><body name='box'><freejoint/><geom type='box' size='.1 .1 .1'/></body></worldbody></mujoco>");
        Assert.Contains("no body named 'torso'", Assert.Throws<InvalidDataException>(() => new HumanoidEnv(new HumanoidOptions { ModelPath = noTorso })).Message);
    }

    /// <summary>Not blank, not one colour: the floor, the sky and the figure give several distinct colours.</summary>
    private static void AssertLooksLikeAScene(byte[] frame, int size)
    {
        var colours = new HashSet<int>();
        for (var i = 0; i < frame.Length; i += 3 * 97) colours.Add(frame[i] >> 4 << 8 | frame[i + 1] >> 4 << 4 | frame[i + 2] >> 4);
        Assert.True(colours.Count > 20, $"only {colours.Count} colours in the frame");
        // The centre column holds the humanoid: it differs from the sky above it.
        var top = frame.AsSpan((5 * size + size / 2) * 3, 3).ToArray();
        var middle = frame.AsSpan((size / 2 * size + size / 2) * 3, 3).ToArray();
        Assert.NotEqual(top, middle);
    }
}
