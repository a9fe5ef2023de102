using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using VlmRm.Envs;
using VlmRm.Envs.Mujoco;

namespace VlmRm.Bench;

/// <summary>
/// MuJoCo through VlmRm's P/Invoke shim against MuJoCo's own programs, same model, in the same run:
/// physics steps/s vs Debian's mujoco-testspeed, render frames/s vs a plain C render loop (same size,
/// flags and camera), and vectorized rendering on 1 and 2 threads.
/// </summary>
internal static partial class MujocoBenchmark
{
    public static void Run()
    {
        var assets = Environment.GetEnvironmentVariable("VLMRM_ASSETS") is { Length: > 0 } a ? a : Path.Combine("..", "shared", "assets", "vlmrm");
        var model = File.Exists(Path.Combine(assets, "humanoid.xml")) ? Path.GetFullPath(Path.Combine(assets, "humanoid.xml")) : HumanoidModelSource.DebianModelPath;
        var textured = HumanoidModelSource.Resolve(null, Directory.Exists(assets) && File.Exists(Path.Combine(assets, HumanoidModelSource.PaperModelFile)) ? assets : null);
        Console.WriteLine($"physics model: {model}");
        Console.WriteLine($"render model: {textured}");
        Console.WriteLine();

        const int steps = 20_000;
        // Alternating runs, medians: this shared machine's speed drifts by ±20% between runs.
        var (reference, ours) = Medians(3, () => TestSpeed(model, steps), () => PhysicsStepsPerSecond(model, steps));
        Console.WriteLine($"| physics, 1 thread | steps/s | vs mujoco-testspeed |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| mujoco-testspeed (C, control noise 0) | {reference:N0} | 1.00× |");
        Console.WriteLine($"| VlmRm P/Invoke (one mj_step per call, zero controls) | {ours:N0} | {ours / reference:F2}× |");
        Console.WriteLine();

        // EGL here is Mesa's surfaceless platform (llvmpipe, as OSMesa); on a GPU node the same path uses the driver's EGL device.
        Console.WriteLine($"auto render backend on this machine: {RenderBackends.Resolve(RenderBackend.Auto)}");
        Console.WriteLine();
        Console.WriteLine("| render (step + render) | backend | size | flags | C loop frames/s | VlmRm frames/s | ratio |");
        Console.WriteLine("|---|---|---|---|---:|---:|---:|");
        foreach (var backend in new[] { RenderBackend.Osmesa, RenderBackend.Egl })
        {
            foreach (var (size, flags) in new[] { (224, new RenderFlags(true, true, true)), (224, new RenderFlags(false, false, false)), (480, new RenderFlags(true, true, true)) })
            {
                var (c, managed) = Medians(3, () => CRenderLoop(textured, size, flags, backend, frames: 100), () => ManagedRender(textured, size, flags, backend, frames: 100));
                Console.WriteLine($"| humanoid | {backend.ToString().ToLowerInvariant()} | {size}×{size} | {Describe(flags)} | {c:F1} | {managed:F1} | {managed / c:F2}× |");
            }
        }
        Console.WriteLine();

        Console.WriteLine("| vectorized render, 8 humanoids, 224×224, all flags | frames/s |");
        Console.WriteLine("|---|---:|");
        foreach (var threads in new[] { 1, 2 })
        {
            Console.WriteLine($"| {threads} thread{(threads > 1 ? "s" : "")} | {VectorRender(textured, threads):F1} |");
        }
    }

    private static (double A, double B) Medians(int rounds, Func<double> a, Func<double> b)
    {
        var (xs, ys) = (new List<double>(), new List<double>());
        for (var r = 0; r < rounds; r++)
        {
            xs.Add(a());
            ys.Add(b());
        }
        return (xs.Order().ElementAt(rounds / 2), ys.Order().ElementAt(rounds / 2));
    }

    private static string Describe(RenderFlags f) => f is { Shadows: true, Reflection: true, Skybox: true } ? "shadows, reflection, skybox" : f is { Shadows: false, Reflection: false, Skybox: false } ? "none" : f.ToString();

    private static double TestSpeed(string model, int steps)
    {
        var start = new ProcessStartInfo("mujoco-testspeed", [model, steps.ToString(CultureInfo.InvariantCulture), "1", "0"]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var match = StepsPerSecond().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"mujoco-testspeed printed no steps/s:\n{output}");
    }

    private static double PhysicsStepsPerSecond(string model, int steps)
    {
        using var sim = new MujocoSimulation(model, 8, 8, new RenderFlags());
        // As testspeed with control noise 0: fresh data, zero controls, so both simulate the same passive
        // fall (same contacts, same solver work) and the ratio measures the call path alone.
        sim.ResetData();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) sim.StepPhysicsOnly(1);
        return steps / clock.Elapsed.TotalSeconds;
    }

    private static double CRenderLoop(string model, int size, RenderFlags flags, RenderBackend backend, int frames)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "vlmrm-render-bench");
        var start = new ProcessStartInfo(program, [model, $"{size}", $"{size}", $"{frames}", flags.Shadows ? "1" : "0", flags.Reflection ? "1" : "0", flags.Skybox ? "1" : "0",
            backend == RenderBackend.Egl ? "1" : "0"])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return double.Parse(output, CultureInfo.InvariantCulture);
    }

    private static double ManagedRender(string model, int size, RenderFlags flags, RenderBackend backend, int frames)
    {
        using var sim = new MujocoSimulation(model, size, size, flags, backend);
        var camera = new CameraPose(0, 0, 1.0, 3.5, 135, -15);
        var rgb = new byte[size * size * 3];
        var rng = new Rng(2);
        sim.Forward();
        for (var i = 0; i < 5; i++) sim.Render(camera, rgb);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < frames; i++)
        {
            var ctrl = sim.Ctrl;
            for (var k = 0; k < ctrl.Length; k++) ctrl[k] = 0.4 * rng.Uniform(-1, 1);
            sim.StepPhysicsOnly(1);
            sim.Render(camera, rgb);
        }
        return frames / clock.Elapsed.TotalSeconds;
    }

    private static double VectorRender(string model, int threads)
    {
        using var env = new VectorEnv(8, _ => new HumanoidEnv(new HumanoidOptions { ModelPath = model, RenderWidth = 224, RenderHeight = 224 }), seed: 0);
        env.Reset();
        var frames = new byte[8 * env.FrameBytes];
        env.Render(frames, threads);
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        while (clock.Elapsed.TotalSeconds < 6)
        {
            env.Render(frames, threads);
            rounds++;
        }
        return rounds * 8 / clock.Elapsed.TotalSeconds;
    }

    [GeneratedRegex(@"Steps per second\s*:\s*([0-9.]+)")]
    private static partial Regex StepsPerSecond();
}
