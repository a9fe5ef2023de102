using VlmRm.Envs.Mujoco;

namespace VlmRm.Evaluation.LabelledSets;

/// <summary>One drawn Humanoid state: its frame from the paper's fixed camera, its body and where it came from.</summary>
public sealed record HumanoidState(byte[] Frame, HumanoidBodyState Body, string Source);

/// <summary>
/// The Humanoid's labelled-set distribution: half the states posed by <see cref="HumanoidPoseGenerator"/> (each of the
/// eight tasks' postures with noise, or every joint at random, in equal shares), half states a random policy reaches.
/// Random-policy states alone almost never show a goal pose, and posed bodies alone never show what an agent does.
/// Every state is rendered from the paper's fixed camera (<see cref="HumanoidOptions.PaperCamera"/>), as the agent's reward sees it in presets/humanoid-sac.yaml.
/// </summary>
public sealed class HumanoidStates : IDisposable
{
    private readonly HumanoidEnv _env;
    private readonly HumanoidPoseGenerator _generator;

    /// <param name="task">A task whose predicate will be asked: refused up front when the model lacks a body part it reads.</param>
    public HumanoidStates(int frameSize, string? assetsDirectory, HumanoidPose task = HumanoidPose.Standing)
    {
        _env = new HumanoidEnv(new HumanoidOptions
        {
            AssetsDirectory = assetsDirectory, RenderWidth = frameSize, RenderHeight = frameSize, SuccessPose = task, MaxEpisodeSteps = 1000,
            Camera = HumanoidOptions.PaperCamera,
        });
        try
        {
            _generator = new HumanoidPoseGenerator(_env);
        }
        catch
        {
            _env.Dispose();
            throw;
        }
    }

    public string EnvId => _env.Spec.Id;

    /// <summary>Frames are square, this many pixels a side.</summary>
    public int FrameSize => _env.Spec.RenderWidth;

    public IEnumerable<HumanoidState> Sample(int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            HumanoidBodyState body;
            string source;
            if (i % 2 == 0)
            {
                (body, var target) = _generator.PoseAnyTask(random);
                source = $"posed {(target is { } t ? HumanoidSkeleton.ConfigName(t) : "at random")} seed={seed} #{i}";
            }
            else
            {
                body = _generator.RandomPolicyState(random);
                source = $"random policy seed={seed} #{i}";
            }
            yield return Rendered(body, source);
        }
    }

    /// <summary><paramref name="count"/> states posed by <paramref name="pose"/> (the generator and this draw's random stream), named <paramref name="source"/>.</summary>
    public IEnumerable<HumanoidState> Draw(int count, int seed, string source, Func<HumanoidPoseGenerator, Random, HumanoidBodyState> pose)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++) yield return Rendered(pose(_generator, random), source);
    }

    /// <summary>The states' frames one after another, as the image tower takes a batch.</summary>
    public static byte[] Frames(IReadOnlyList<HumanoidState> states)
    {
        var frameBytes = states[0].Frame.Length;
        var frames = new byte[states.Count * frameBytes];
        for (var i = 0; i < states.Count; i++) states[i].Frame.CopyTo(frames, i * frameBytes);
        return frames;
    }

    private HumanoidState Rendered(HumanoidBodyState body, string source)
    {
        var frame = new byte[_env.Spec.FrameBytes];
        _env.Render(frame);
        return new HumanoidState(frame, body, source);
    }

    public void Dispose() => _env.Dispose();
}
