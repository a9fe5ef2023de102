using System.Diagnostics;
using VlmRm.Envs.Imaging;

namespace VlmRm.Envs;

/// <summary>What a recorded rollout produced and how fast it ran.</summary>
public sealed record RolloutSummary(
    string EnvId,
    int Steps,
    int Frames,
    double StepsPerSecond,
    double FramesPerSecond,
    int EpisodesFinished,
    double MeanEpisodeReturn,
    double SuccessFraction,
    string VideoPath,
    IReadOnlyList<string> PngPaths);

/// <summary>
/// Uniformly random actions over a vectorized environment: the smoke test of an environment's
/// dynamics, renderer and video path, and the throughput figures of the try command.
/// </summary>
public sealed class RandomRollout(VectorEnv env, ulong seed)
{
    private readonly Rng _rng = new(seed);
    private readonly float[] _actions = new float[env.Count * env.Spec.ActionSize];

    /// <summary>Environment steps per second with no rendering (all copies count).</summary>
    public double MeasureStepsPerSecond(int vectorSteps)
    {
        env.Reset();
        // Untimed warm-up, by time rather than count: tiered JIT promotes hot code only after a delay.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 500)
        {
            SampleActions();
            env.Step(_actions);
        }
        var clock = Stopwatch.StartNew();
        for (var t = 0; t < vectorSteps; t++)
        {
            SampleActions();
            env.Step(_actions);
        }
        return vectorSteps * (double)env.Count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Vector steps per second over about <paramref name="budget"/> (at least two steps), rendering every copy's reached
    /// state on all cores as a run's environment does when its labeller needs frames, when <paramref name="render"/>.
    /// </summary>
    public double MeasureVectorStepsPerSecond(TimeSpan budget, bool render)
    {
        var frames = render ? new byte[env.Count * env.FrameBytes] : [];
        env.Reset();
        var warmUp = Stopwatch.StartNew();
        do
        {
            SampleActions();
            env.Step(_actions, frames, Environment.ProcessorCount);
        } while (warmUp.ElapsedMilliseconds < 500);
        var (steps, clock) = (0, Stopwatch.StartNew());
        while (steps < 2 || clock.Elapsed < budget)
        {
            SampleActions();
            env.Step(_actions, frames, Environment.ProcessorCount);
            steps++;
        }
        return steps / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Steps <paramref name="vectorSteps"/> times rendering every copy each step; copy 0's frames go to
    /// an MP4 and every <paramref name="pngEvery"/>-th of them to a PNG in <paramref name="outputDirectory"/>.
    /// </summary>
    public RolloutSummary Record(int vectorSteps, string outputDirectory, int pngEvery, int framesPerSecond, IProgress<int>? progress = null)
    {
        Directory.CreateDirectory(outputDirectory);
        var frames = new byte[env.Count * env.FrameBytes];
        var pngPaths = new List<string>();
        var videoPath = Path.Combine(outputDirectory, "rollout.mp4");
        double returns = 0;
        int episodes = 0, successes = 0;
        var renderTime = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        using (var video = new Mp4Writer(videoPath, env.Spec.RenderWidth, env.Spec.RenderHeight, framesPerSecond))
        {
            env.Reset();
            for (var t = 0; t < vectorSteps; t++)
            {
                SampleActions();
                env.Step(_actions);
                for (var i = 0; i < env.Count; i++)
                {
                    successes += env.Successes[i] ? 1 : 0;
                    if (!env.Terminated[i] && !env.Truncated[i]) continue;
                    episodes++;
                    returns += env.CompletedReturns[i];
                }
                var renderStart = clock.Elapsed;
                env.Render(frames);
                renderTime += clock.Elapsed - renderStart;

                var first = frames.AsSpan(0, env.FrameBytes);
                video.WriteFrame(first);
                if (t % pngEvery == 0)
                {
                    var png = Path.Combine(outputDirectory, $"frame_{t:D5}.png");
                    Png.WriteRgb(png, first, env.Spec.RenderWidth, env.Spec.RenderHeight);
                    pngPaths.Add(png);
                }
                progress?.Report(t + 1);
            }
            video.Complete();
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        return new RolloutSummary(
            env.Spec.Id,
            vectorSteps * env.Count,
            vectorSteps * env.Count,
            vectorSteps * env.Count / elapsed,
            vectorSteps * env.Count / renderTime.TotalSeconds,
            episodes,
            episodes > 0 ? returns / episodes : double.NaN,
            successes / (double)(vectorSteps * env.Count),
            videoPath,
            pngPaths);
    }

    private void SampleActions()
    {
        var size = env.Spec.ActionSize;
        for (var i = 0; i < env.Count; i++) env.Spec.ActionSpace.Sample(_rng, _actions.AsSpan(i * size, size));
    }
}
