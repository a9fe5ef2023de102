using VlmRm.Envs.ClassicControl;
using VlmRm.Envs.Mujoco;

namespace VlmRm.Envs;

/// <summary>Settings shared by every environment id; each environment reads the ones that apply to it.</summary>
public sealed record EnvOptions
{
    public int? RenderWidth { get; init; }
    public int? RenderHeight { get; init; }
    public int? MaxEpisodeSteps { get; init; }

    /// <summary>Folder with the paper's reference assets (e.g. ../shared/assets/vlmrm); null uses the project's own.</summary>
    public string? AssetsDirectory { get; init; }

    /// <summary>An MJCF file for MuJoCo environments (overrides the assets folder's model).</summary>
    public string? ModelPath { get; init; }

    /// <summary>MuJoCo rendering flags; null keeps shadows, reflections and the skybox on.</summary>
    public RenderFlags? RenderFlags { get; init; }

    /// <summary>How MuJoCo renders (auto, egl, osmesa); null is auto.</summary>
    public RenderBackend? RenderBackend { get; init; }

    /// <summary>The Humanoid's fixed camera; null keeps <see cref="HumanoidOptions.Camera"/>'s default.</summary>
    public CameraPose? Camera { get; init; }

    /// <summary>The pose the Humanoid's success flag tests; null keeps standing.</summary>
    public HumanoidPose? SuccessPose { get; init; }
}

/// <summary>Creates environments by id, like gymnasium.make.</summary>
public static class EnvRegistry
{
    private static readonly Dictionary<string, (string Description, Func<EnvOptions, IEnv> Create)> Entries =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["CartPole"] = ("CartPole with the paper's modifications: no termination, negative reward while fallen, 200 steps", o =>
                new CartPoleEnv(new CartPoleOptions
                {
                    MaxEpisodeSteps = o.MaxEpisodeSteps,
                    RenderWidth = o.RenderWidth ?? CartPoleRenderer.NativeWidth,
                    RenderHeight = o.RenderHeight ?? CartPoleRenderer.NativeHeight,
                })),
            ["CartPole-v1"] = ("Gymnasium's CartPole-v1, unmodified", o =>
                new CartPoleEnv(new CartPoleOptions
                {
                    PaperModifications = false,
                    MaxEpisodeSteps = o.MaxEpisodeSteps,
                    RenderWidth = o.RenderWidth ?? CartPoleRenderer.NativeWidth,
                    RenderHeight = o.RenderHeight ?? CartPoleRenderer.NativeHeight,
                })),
            ["MountainCar"] = ("MountainCarContinuous with the paper's modifications (absorbing goal, no termination), Gymnasium's look", o =>
                MountainCar(o, paper: true, MountainCarLook.Plain)),
            ["MountainCarTextured"] = ("MountainCar with the paper's modifications, textured after the paper's Fig. 2c (procedural textures; the paper's files with an assets folder)", o =>
                MountainCar(o, paper: true, MountainCarLook.Textured)),
            ["MountainCarContinuous-v0"] = ("Gymnasium's MountainCarContinuous-v0, unmodified", o =>
                MountainCar(o, paper: false, MountainCarLook.Plain)),
            ["Humanoid"] = ("MuJoCo Humanoid-v4 with the paper's modifications: no termination, 100 steps, textures, fixed camera", o =>
            {
                var defaults = new HumanoidOptions();
                return new HumanoidEnv(defaults with
                {
                    ModelPath = o.ModelPath,
                    AssetsDirectory = o.AssetsDirectory,
                    MaxEpisodeSteps = o.MaxEpisodeSteps ?? defaults.MaxEpisodeSteps,
                    RenderWidth = o.RenderWidth ?? defaults.RenderWidth,
                    RenderHeight = o.RenderHeight ?? defaults.RenderHeight,
                    Flags = o.RenderFlags ?? defaults.Flags,
                    Backend = o.RenderBackend ?? defaults.Backend,
                    Camera = o.Camera ?? defaults.Camera,
                    SuccessPose = o.SuccessPose ?? defaults.SuccessPose,
                });
            }),
        };

    public static IReadOnlyCollection<string> Ids => Entries.Keys;

    public static string Describe(string id) => Entries.TryGetValue(id, out var entry) ? entry.Description : throw UnknownId(id);

    public static IEnv Make(string id, EnvOptions? options = null)
    {
        if (!Entries.TryGetValue(id, out var entry)) throw UnknownId(id);
        return entry.Create(options ?? new EnvOptions());
    }

    /// <summary>A vectorized environment of <paramref name="count"/> copies of <paramref name="id"/>.</summary>
    public static VectorEnv MakeVector(string id, int count, int seed, EnvOptions? options = null)
    {
        if (!Entries.ContainsKey(id)) throw UnknownId(id);
        return new VectorEnv(count, _ => Make(id, options), seed);
    }

    public static void Register(string id, string description, Func<EnvOptions, IEnv> create)
    {
        if (!Entries.TryAdd(id, (description, create))) throw new InvalidOperationException($"Environment id '{id}' is already registered.");
    }

    private static ArgumentException UnknownId(string id) =>
        new($"Unknown environment '{id}'. Known environments: {string.Join(", ", Entries.Keys.Order())}.", nameof(id));

    private static MountainCarContinuousEnv MountainCar(EnvOptions o, bool paper, MountainCarLook look) =>
        new MountainCarContinuousEnv(new MountainCarOptions
        {
            PaperModifications = paper,
            Look = look,
            AssetsDirectory = o.AssetsDirectory,
            MaxEpisodeSteps = o.MaxEpisodeSteps ?? 999,
            RenderWidth = o.RenderWidth ?? MountainCarRenderer.NativeWidth,
            RenderHeight = o.RenderHeight ?? MountainCarRenderer.NativeHeight,
        });
}
