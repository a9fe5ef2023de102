namespace VlmRm.Envs.Tests;

public class VectorEnvTests
{
    [Fact]
    public void Steps_n_copies_into_contiguous_buffers_and_auto_resets()
    {
        using var vec = EnvRegistry.MakeVector("CartPole", 4, seed: 7, new EnvOptions { MaxEpisodeSteps = 10 });
        vec.Reset();
        Assert.Equal(16, vec.Observations.Length);
        var actions = new float[4];
        for (var t = 1; t <= 10; t++)
        {
            vec.Step(actions);
            Assert.All(vec.Truncated, truncated => Assert.Equal(t == 10, truncated));
        }
        // After the 10th step every copy has been reset: its observation is a fresh start, the final one is kept.
        for (var i = 0; i < 4; i++)
        {
            Assert.All(vec.ObservationSlot(vec.Observations, i).ToArray(), v => Assert.InRange(v, -0.05f, 0.05f));
            Assert.NotEqual(vec.ObservationSlot(vec.FinalObservations, i).ToArray(), vec.ObservationSlot(vec.Observations, i).ToArray());
            Assert.Equal(10, vec.CompletedLengths[i]);
        }
    }

    [Fact]
    public void Same_seed_same_trajectory_different_copies_differ()
    {
        float[] Run(int seed)
        {
            using var vec = EnvRegistry.MakeVector("MountainCar", 3, seed);
            vec.Reset();
            var actions = new float[] { 1, -1, 0.5f };
            for (var t = 0; t < 50; t++) vec.Step(actions);
            return vec.Observations.ToArray();
        }
        var a = Run(5);
        Assert.Equal(a, Run(5));
        Assert.NotEqual(a, Run(6));
        Assert.NotEqual(a[..2], a[2..4]);
    }

    [Fact]
    public void Renders_n_frames_into_one_buffer_in_parallel_identically_to_serial()
    {
        using var vec = EnvRegistry.MakeVector("MountainCarTextured", 4, seed: 1, new EnvOptions { RenderWidth = 64, RenderHeight = 64 });
        vec.Reset();
        var serial = new byte[4 * vec.FrameBytes];
        var parallel = new byte[4 * vec.FrameBytes];
        vec.Render(serial);
        vec.Render(parallel, maxDegreeOfParallelism: 2);
        Assert.Equal(serial, parallel);
        var error = Assert.Throws<ArgumentException>(() => vec.Render(new byte[10]));
        Assert.Contains("4×64×64×3", error.Message);
    }

    [Theory]
    [InlineData("CartPole")]
    [InlineData("MountainCar")]
    public void Saved_state_continues_identically(string id)
    {
        using var a = EnvRegistry.MakeVector(id, 3, seed: 4, new EnvOptions { MaxEpisodeSteps = 7 });
        using var b = EnvRegistry.MakeVector(id, 3, seed: 99, new EnvOptions { MaxEpisodeSteps = 7 });
        a.Reset();
        b.Reset();
        var actions = new float[3];
        for (var t = 0; t < 5; t++) a.Step(actions);
        using var snapshot = new MemoryStream();
        a.SaveState(new BinaryWriter(snapshot));
        snapshot.Position = 0;
        b.LoadState(new BinaryReader(snapshot));
        for (var t = 0; t < 20; t++) // across auto-resets, which draw from the restored random streams
        {
            actions[0] = t % 2;
            a.Step(actions);
            b.Step(actions);
            Assert.Equal(a.Observations, b.Observations);
            Assert.Equal(a.Rewards, b.Rewards);
        }
    }

    [Fact]
    public void Reached_frames_show_the_final_state_not_the_reset_one()
    {
        using var vec = EnvRegistry.MakeVector("CartPole", 1, seed: 0, new EnvOptions { MaxEpisodeSteps = 3, RenderWidth = 60, RenderHeight = 40 });
        vec.Reset();
        var frames = new byte[vec.FrameBytes];
        var final = new byte[vec.FrameBytes];
        for (var t = 0; t < 3; t++) vec.Step(new float[] { 1 }, frames);
        Assert.True(vec.Truncated[0]);
        var env = (ClassicControl.CartPoleEnv)vec[0];
        var renderer = new ClassicControl.CartPoleRenderer(60, 40);
        var finalState = new ClassicControl.CartPoleState(vec.FinalObservations[0], vec.FinalObservations[1], vec.FinalObservations[2], vec.FinalObservations[3]);
        renderer.Render(finalState, final);
        var afterReset = new byte[vec.FrameBytes];
        renderer.Render(env.State, afterReset);
        Assert.Equal(final, frames);
        Assert.NotEqual(afterReset, frames);
    }

    [Fact]
    public void Wrong_action_count_is_a_clear_error()
    {
        using var vec = EnvRegistry.MakeVector("CartPole", 2, seed: 0);
        vec.Reset();
        var error = Assert.Throws<ArgumentException>(() => vec.Step(new float[3]));
        Assert.Contains("expected 2×1 actions", error.Message);
    }

    [Theory]
    [InlineData("CartPole")]
    [InlineData("MountainCar")]
    [InlineData("MountainCarTextured")]
    public void Stepping_and_rendering_allocate_nothing(string id)
    {
        using var vec = EnvRegistry.MakeVector(id, 4, seed: 0, new EnvOptions { RenderWidth = 32, RenderHeight = 32, MaxEpisodeSteps = 20 });
        vec.Reset();
        var actions = new float[4 * vec.Spec.ActionSize];
        var frames = new byte[4 * vec.FrameBytes];
        // Warm up past tiered JIT compilation, which allocates on the calling thread during its first calls.
        for (var t = 0; t < 500; t++)
        {
            vec.Step(actions);
            vec.Render(frames);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var t = 0; t < 100; t++)
        {
            vec.Step(actions);
            vec.Render(frames);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Unknown_env_lists_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => EnvRegistry.Make("Pong"));
        Assert.Contains("Unknown environment 'Pong'", error.Message);
        Assert.Contains("CartPole", error.Message);
    }
}
