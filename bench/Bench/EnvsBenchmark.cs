using VlmRm.Envs;

namespace VlmRm.Bench;

/// <summary>
/// Steps/s without rendering and frames/s at 600×400 and 224×224 on one thread, per environment.
/// Reference measured in the same run: filling the same frame buffer with one colour, the floor any
/// renderer pays. Target (foundation issue): CartPole at 224×224 ≥ 5,000 frames/s per core.
/// </summary>
internal static class EnvsBenchmark
{
    private const double CartPoleTarget224 = 5_000;

    public static void Run()
    {
        Console.WriteLine("| env | steps/s (1 thread) | frames/s 600×400 | frames/s 224×224 | fill-only frames/s 224×224 | render cost / fill cost at 224 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        double cartPole224 = 0;
        foreach (var id in new[] { "CartPole", "MountainCar", "MountainCarTextured" })
        {
            var steps = StepsPerSecond(id);
            var native = FramesPerSecond(id, 600, 400);
            var small = FramesPerSecond(id, 224, 224);
            var fill = FillPerSecond(224, 224);
            if (id == "CartPole") cartPole224 = small;
            Console.WriteLine($"| {id} | {steps:N0} | {native:N0} | {small:N0} | {fill:N0} | {fill / small:F1}× |");
        }
        Console.WriteLine();
        Console.WriteLine($"CartPole 224×224: {cartPole224:N0} frames/s/core = {cartPole224 / CartPoleTarget224:F2}× the 5,000 target");
    }

    private static double StepsPerSecond(string id)
    {
        using var env = EnvRegistry.Make(id);
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(0, observation);
        var rng = new Rng(1);
        var action = new float[env.Spec.ActionSize];
        var batch = 1000;
        return batch * Measure.OperationsPerSecond(() =>
        {
            for (var i = 0; i < batch; i++)
            {
                action[0] = env.Spec.ActionSpace is DiscreteSpace ? rng.NextInt(2) : (float)rng.Uniform(-1, 1);
                if (env.Step(action, observation).Done) env.Reset(null, observation);
            }
        });
    }

    private static double FramesPerSecond(string id, int width, int height)
    {
        using var env = EnvRegistry.Make(id, new EnvOptions { RenderWidth = width, RenderHeight = height });
        var observation = new float[env.Spec.ObservationSize];
        env.Reset(0, observation);
        var frame = new byte[env.Spec.FrameBytes];
        var rng = new Rng(2);
        var action = new float[env.Spec.ActionSize];
        // A new state each frame, so the renderer cannot benefit from drawing the same picture twice.
        return Measure.OperationsPerSecond(() =>
        {
            action[0] = env.Spec.ActionSpace is DiscreteSpace ? rng.NextInt(2) : (float)rng.Uniform(-1, 1);
            if (env.Step(action, observation).Done) env.Reset(null, observation);
            env.Render(frame);
        });
    }

    private static double FillPerSecond(int width, int height)
    {
        var frame = new byte[width * height * 3];
        byte value = 0;
        return Measure.OperationsPerSecond(() => frame.AsSpan().Fill(value++));
    }
}
