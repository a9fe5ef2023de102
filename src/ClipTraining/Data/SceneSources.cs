using VlmRm.ClipTraining.Captions;
using VlmRm.Envs;
using VlmRm.Envs.ClassicControl;
using VlmRm.Envs.Mujoco;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.ClipTraining.Data;

/// <summary>Draws states of one environment, renders them at the model's image size and names what each frame shows.</summary>
public interface ISceneSource : IDisposable
{
    string EnvId { get; }

    /// <summary>Renders a freshly drawn state into <paramref name="rgb"/> (size × size × 3) and returns its facts.</summary>
    IReadOnlySet<SceneFact> Draw(Random random, Span<byte> rgb);
}

/// <summary>The environments training data can come from, by id.</summary>
public static class SceneSources
{
    /// <summary>
    /// What the training frames look like; part of every trained model's name (envs-v2) and recipe, so a model or a
    /// half-trained state from other frames is never taken for this one. v2: classic-control frames show the whole
    /// scene (v1 showed CLIP's centre crop, which hid the track's ends and MountainCar's goal), and CartPole poles take
    /// every angle, hanging below the cart included (v1: within ±90°). v3: given the paper's assets folder, textured
    /// MountainCar and Humanoid frames come half with the paper's textures and half with the procedural ones (v2 used
    /// the procedural ones only whenever MountainCar was textured, so a model never saw the paper's own scenes).
    /// v4: half the Humanoid frames are posed in the paper's eight tasks' postures (and at random), seen from varied
    /// cameras, and captioned with the eight tasks' poses (v3: random-policy frames only, four poses).
    /// </summary>
    public const int Version = 4;

    public static IReadOnlyList<string> EnvIds { get; } = ["CartPole", "MountainCar", "MountainCarTextured", "Humanoid"];

    /// <summary>
    /// The scenes of one environment. With the paper's assets folder, the environments it textures draw half their
    /// frames with its textures and half with the procedural ones, so the model knows both looks.
    /// </summary>
    public static ISceneSource Create(string envId, int imageSize, string? assetsDirectory, int humanoidPool, int seed) =>
        assetsDirectory is not null && envId is "MountainCarTextured" or "Humanoid"
            ? new EitherLook(Single(envId, imageSize, null, Math.Max(1, humanoidPool / 2), seed), Single(envId, imageSize, assetsDirectory, Math.Max(1, humanoidPool - humanoidPool / 2), seed + 1))
            : Single(envId, imageSize, assetsDirectory, humanoidPool, seed);

    private static ISceneSource Single(string envId, int imageSize, string? assetsDirectory, int humanoidPool, int seed) => envId switch
    {
        "CartPole" => new CartPoleScenes(imageSize),
        "MountainCar" or "MountainCarTextured" => new MountainCarScenes(envId, imageSize, assetsDirectory),
        "Humanoid" => new HumanoidScenes(imageSize, assetsDirectory, humanoidPool, seed),
        _ => throw new ArgumentException($"No training scenes for environment '{envId}'; known: {string.Join(", ", EnvIds)}."),
    };

    internal static HashSet<SceneFact> Facts(string scene, params (string Key, string Value)[] facts)
    {
        var set = new HashSet<SceneFact> { new("scene", scene) };
        foreach (var (key, value) in facts) set.Add(new SceneFact(key, value));
        return set;
    }
}

/// <summary>
/// CartPole states covering what RL visits: the cart anywhere on its track (the frame shows all of it), the pole
/// upright 40% of the time (Gymnasium's ±12°, the ground-truth predicate) and at any angle otherwise, hanging below
/// the cart included: the paper's CartPole never terminates and wraps the angle, so an agent that drops the pole
/// swings it down, and a model that never saw a hanging pole scored one (a vertical line at the cart) like an upright
/// one, 0.6 against 0.67, a reward DQN collected by letting the pole hang.
/// </summary>
internal sealed class CartPoleScenes(int imageSize) : ISceneSource
{
    private const double LeaningLimitDegrees = 50;
    private const double HangingFromDegrees = 120;
    private readonly ClassicControlStates _states = new("CartPole", new EnvOptions { RenderWidth = imageSize, RenderHeight = imageSize });
    private readonly float[] _state = new float[4];

    public string EnvId => "CartPole";

    public IReadOnlySet<SceneFact> Draw(Random random, Span<byte> rgb)
    {
        var x = random.Uniform(-CartPoleEnv.XThreshold, CartPoleEnv.XThreshold);
        var upright = CartPoleEnv.ThetaThresholdRadians;
        var theta = random.NextDouble() < 0.4 ? random.Uniform(-upright, upright) : random.Uniform(-Math.PI, Math.PI);
        _state[0] = (float)x;
        _state[1] = (float)random.Uniform(-2, 2);
        _state[2] = (float)theta;
        _state[3] = (float)random.Uniform(-2, 2);
        _states.Render(_state, rgb);
        var cart = x < -0.5 ? "left" : x > 0.5 ? "right" : "centre";
        if (_states.IsGoal(_state)) return SceneSources.Facts("cartpole", ("cart", cart), ("pole", "upright"));
        var degrees = Math.Abs(theta) * 180 / Math.PI;
        // Gymnasium draws a positive angle as the pole leaning to the right of the frame.
        var side = theta > 0 ? "right" : "left";
        return SceneSources.Facts("cartpole", ("cart", cart), ("pole", degrees < LeaningLimitDegrees ? "leaning" : degrees < HangingFromDegrees ? "fallen" : "hanging"), ("side", side));
    }

    public void Dispose() => _states.Dispose();
}

/// <summary>MountainCar positions over the whole track, a quarter of them near the goal so the flag is seen often.</summary>
internal sealed class MountainCarScenes(string envId, int imageSize, string? assetsDirectory) : ISceneSource
{
    private readonly ClassicControlStates _states = new(envId, new EnvOptions { RenderWidth = imageSize, RenderHeight = imageSize, AssetsDirectory = assetsDirectory });
    private readonly float[] _state = new float[2];
    private readonly string _look = envId == "MountainCarTextured" ? "textured" : "plain";

    public string EnvId => envId;

    public IReadOnlySet<SceneFact> Draw(Random random, Span<byte> rgb)
    {
        var x = random.NextDouble() < 0.25
            ? random.Uniform(0.3, MountainCarContinuousEnv.MaxPosition)
            : random.Uniform(MountainCarContinuousEnv.MinPosition, MountainCarContinuousEnv.MaxPosition);
        _state[0] = (float)x;
        _state[1] = (float)random.Uniform(-MountainCarContinuousEnv.MaxSpeed, MountainCarContinuousEnv.MaxSpeed);
        _states.Render(_state, rgb);
        var place = x >= MountainCarContinuousEnv.GoalPosition ? "goal" : x >= 0.25 ? "near-top" : x >= -0.3 ? "right-slope" : x >= -0.75 ? "valley" : "left-hill";
        return SceneSources.Facts("mountaincar", ("car", place), ("look", _look));
    }

    public void Dispose() => _states.Dispose();
}

/// <summary>One environment's scenes in two looks (procedural and the paper's textures), each frame from either at even odds.</summary>
internal sealed class EitherLook(ISceneSource procedural, ISceneSource paper) : ISceneSource
{
    public string EnvId => procedural.EnvId;

    public IReadOnlySet<SceneFact> Draw(Random random, Span<byte> rgb) => (random.Next(2) == 0 ? procedural : paper).Draw(random, rgb);

    public void Dispose()
    {
        procedural.Dispose();
        paper.Dispose();
    }
}

/// <summary>
/// Humanoid frames, rendered once into a pool because MuJoCo renders on the CPU at tens of frames per second here:
/// half from episodes of random actions of random strength (standing, stumbling, crouching, lying), half posed by
/// <see cref="HumanoidPoseGenerator"/> (the eight tasks' postures with noise, or every joint at random) and seen from
/// cameras around the paper's (distance ±20 %, azimuth ±40°, elevation −30° to 0°; the random-policy frames from the
/// environment's default camera). Each frame's facts are what
/// <see cref="HumanoidPoses"/> finds in its body: its pose, a one-legged stance, and what its arms do.
/// </summary>
internal sealed class HumanoidScenes : ISceneSource
{
    private const double LyingTorsoHeight = 0.45;
    private readonly List<(byte[] Frame, HashSet<SceneFact> Facts)> _pool = [];

    public HumanoidScenes(int imageSize, string? assetsDirectory, int poolSize, int seed)
    {
        if (poolSize < 1) throw new ArgumentOutOfRangeException(nameof(poolSize), poolSize, "The humanoid pool needs at least one frame.");
        using var env = new HumanoidEnv(new HumanoidOptions { AssetsDirectory = assetsDirectory, RenderWidth = imageSize, RenderHeight = imageSize, MaxEpisodeSteps = 1000 });
        var random = new Random(seed);
        var generator = new HumanoidPoseGenerator(env);
        var paperCamera = HumanoidOptions.PaperCamera;
        while (_pool.Count < poolSize)
        {
            var frame = new byte[env.Spec.FrameBytes];
            HumanoidBodyState body;
            if (_pool.Count % 2 == 0)
            {
                body = generator.RandomPolicyState(random);
                env.Render(frame);
            }
            else
            {
                body = generator.PoseAnyTask(random).Body;
                var camera = paperCamera with
                {
                    Distance = paperCamera.Distance * random.Uniform(0.8, 1.2),
                    Azimuth = paperCamera.Azimuth + random.Uniform(-40, 40),
                    Elevation = random.Uniform(-30, 0),
                };
                env.Simulation.Render(camera, frame);
            }
            _pool.Add((frame, Facts(body)));
        }
    }

    /// <summary>The facts a caption may assert of this body (<see cref="Captions.CaptionGrammar"/>'s humanoid slots).</summary>
    internal static HashSet<SceneFact> Facts(HumanoidBodyState body)
    {
        bool Holds(HumanoidPose pose) => HumanoidPoses.Holds(pose, body);
        var pose = Holds(HumanoidPose.LotusPosition) ? "lotus"
            : Holds(HumanoidPose.DoingSplits) ? "splits"
            : Holds(HumanoidPose.Kneeling) ? "kneeling"
            : Holds(HumanoidPose.Standing) ? "standing"
            : body.TorsoHeight < LyingTorsoHeight ? "lying"
            : "crouching";
        var facts = SceneSources.Facts("humanoid", ("pose", pose));
        if (Holds(HumanoidPose.StandingOnOneLeg)) facts.Add(new SceneFact("stance", "one-leg"));
        var arms = Holds(HumanoidPose.ArmsRaised) ? "raised" : Holds(HumanoidPose.ArmsCrossed) ? "crossed" : Holds(HumanoidPose.HandsOnHips) ? "on-hips" : null;
        if (arms is not null) facts.Add(new SceneFact("arms", arms));
        return facts;
    }

    public string EnvId => "Humanoid";

    public IReadOnlySet<SceneFact> Draw(Random random, Span<byte> rgb)
    {
        var (frame, facts) = _pool[random.Next(_pool.Count)];
        frame.CopyTo(rgb);
        return facts;
    }

    public void Dispose()
    {
    }
}
