using VlmRm.Clip.Reward;
using VlmRm.Evaluation.Language;

namespace VlmRm.ClipTraining.Captions;

/// <summary>One fact a frame shows, e.g. ("pole", "upright"); a caption asserts some of a frame's facts.</summary>
public readonly record struct SceneFact(string Key, string Value)
{
    public override string ToString() => $"{Key}={Value}";
}

/// <summary>A caption and the facts it asserts: it is true of every frame that shows all of them.</summary>
public sealed record Caption(string Text, IReadOnlyList<SceneFact> Facts)
{
    public bool IsTrueOf(IReadOnlySet<SceneFact> frameFacts)
    {
        foreach (var fact in Facts)
        {
            if (!frameFacts.Contains(fact)) return false;
        }
        return true;
    }
}

/// <summary>
/// Captions generated from a state's facts: for each fact, phrases with synonyms; for each scene, templates that
/// combine them, plus generic captions of the scene. Finite by construction, so every caption the grammar can
/// produce can be listed (<see cref="AllCaptions"/>) and checked: none contains a prompt of the paper's Table 3
/// (<see cref="HeldOutPrompts"/>), so a model trained on them meets those prompts for the first time when it is
/// used as a reward model.
/// </summary>
public sealed class CaptionGrammar
{
    /// <summary>
    /// The paper's goal and baseline prompts (Table 1 / Table 3) and VlmRm's held-out sentence lists
    /// (<see cref="HeldOutLanguage"/>): never part of a training caption.
    /// </summary>
    public static IReadOnlyList<string> HeldOutPrompts { get; } = [.. PaperPrompts.All, .. HeldOutLanguage.Written];

    private readonly Dictionary<string, SceneGrammar> _scenes;

    private CaptionGrammar(Dictionary<string, SceneGrammar> scenes)
    {
        _scenes = scenes;
        var offending = AllCaptions().FirstOrDefault(c => HeldOutPrompts.Any(p => c.Text.Contains(p, StringComparison.OrdinalIgnoreCase)));
        if (offending is not null)
        {
            throw new InvalidDataException($"Caption grammar produces \"{offending.Text}\", which contains a held-out prompt (the paper's Table 3 or VlmRm's held-out sentences); those must stay out of the training captions.");
        }
    }

    /// <summary>The grammar of VlmRm's environments (CartPole, MountainCar plain and textured, Humanoid).</summary>
    public static CaptionGrammar Default { get; } = new(new Dictionary<string, SceneGrammar>(StringComparer.Ordinal)
    {
        ["cartpole"] = CartPoleGrammar(),
        ["mountaincar"] = MountainCarGrammar(),
        ["humanoid"] = HumanoidGrammar(),
    });

    public IReadOnlyCollection<string> Scenes => _scenes.Keys;

    /// <summary>Share of captions that only name the scene: they teach the text tower what a scene-level (baseline) prompt means.</summary>
    public const double GenericShare = 0.15;

    /// <summary>A random caption true of a frame with these facts (its scene named by the fact "scene").</summary>
    public Caption Sample(IReadOnlySet<SceneFact> facts, Random random)
    {
        var grammar = SceneOf(facts);
        var (generic, specific) = grammar.CaptionsFor(facts);
        var options = specific.Count == 0 || random.NextDouble() < GenericShare ? generic : specific;
        return options[random.Next(options.Count)];
    }

    /// <summary>Every caption the grammar can produce for every combination of facts it knows.</summary>
    public IEnumerable<Caption> AllCaptions() => _scenes.Values.SelectMany(s => s.AllCaptions());

    private SceneGrammar SceneOf(IReadOnlySet<SceneFact> facts)
    {
        var scene = facts.FirstOrDefault(f => f.Key == "scene");
        if (scene.Key is null || !_scenes.TryGetValue(scene.Value, out var grammar))
        {
            throw new ArgumentException($"No caption grammar for the frame's scene '{scene.Value}' (facts: {string.Join(", ", facts)}); scenes: {string.Join(", ", _scenes.Keys)}.");
        }
        return grammar;
    }

    // Phrases are written without the paper's exact wording: "on top of a cart" (never "of the cart" after an
    // upright pole), "a humanoid" / "the robot" (never "a humanoid robot"), "a car near the summit flag".
    private static SceneGrammar CartPoleGrammar() => new("cartpole",
        Slots: new()
        {
            ["pole"] = new()
            {
                ["upright"] = ["standing upright", "vertically upright", "perfectly vertical", "balanced upright", "pointing straight up", "upright", "standing straight up", "held vertical"],
                ["leaning"] = ["leaning over", "tilted", "slanted at an angle", "tipping to one side", "leaning", "not quite vertical"],
                ["fallen"] = ["fallen over", "lying almost flat", "tipped over", "nearly horizontal", "toppled", "fallen down"],
                ["hanging"] = ["hanging down", "hanging below the cart", "pointing straight down", "upside down", "dangling under the cart", "hanging beneath the track"],
            },
            ["side"] = new()
            {
                ["left"] = ["to the left", "towards the left"],
                ["right"] = ["to the right", "towards the right"],
            },
            ["cart"] = new()
            {
                ["left"] = ["on the left of the track", "at the left side", "on the left"],
                ["centre"] = ["in the middle of the track", "at the centre", "in the center of the frame"],
                ["right"] = ["on the right of the track", "at the right side", "on the right"],
            },
        },
        Templates:
        [
            "a pole {pole}",
            "the pole is {pole}",
            "a pole {pole} on a cart",
            "the pole {pole} on top of a cart",
            "a cart with its pole {pole}",
            "a black cart carrying a pole {pole}",
            "a pole {pole} {side}",
            "the pole is {pole} {side}",
            "a cart {cart}",
            "the cart is {cart}",
            "a cart {cart} with a pole {pole}",
            "a pole {pole} on a cart {cart}",
        ],
        Generic: ["a cart with a pole", "a pole on a cart", "a cart and a pole", "a cart on a rail", "a cart on a track balancing a pole", "cart with pole"]);

    private static SceneGrammar MountainCarGrammar() => new("mountaincar",
        Slots: new()
        {
            ["car"] = new()
            {
                ["goal"] = ["at the top of the hill by the yellow flag", "on the summit next to a flag", "at the peak beside the flag", "reaching the flag on the hilltop", "at the mountain top near the flag"],
                ["near-top"] = ["almost at the top of the hill", "just below the flag", "near the peak of the mountain", "close to the summit"],
                ["right-slope"] = ["climbing the right slope", "halfway up the mountain", "on the slope below the flag", "driving up the hill"],
                ["valley"] = ["in the valley", "at the bottom of the valley", "down between the hills", "at the lowest point of the road"],
                ["left-hill"] = ["on the left hill", "up the left slope", "high on the left side", "on the hill away from the flag"],
            },
            ["look"] = new()
            {
                ["plain"] = ["a simple drawing of", "a flat diagram of", "a line drawing of"],
                ["textured"] = ["a picture of", "a landscape with", "a textured scene of"],
            },
        },
        Templates:
        [
            "a car {car}",
            "the car is {car}",
            "a small car {car}",
            "a vehicle {car}",
            "{look} a car {car}",
            "{look} a car on a mountain road",
        ],
        Generic: ["a car on a hill", "a car on a mountain road", "a small car between two hills", "a car driving in the hills", "mountains with a car", "a car among the hills"]);

    // The eight tasks' poses (paper Table 1) in words of their own: never "lotus position", "side splits", "both arms
    // raised", "hands on hips", "arms crossed" or "on one leg" after "a humanoid robot", as the paper's prompts put them.
    private static SceneGrammar HumanoidGrammar() => new("humanoid",
        Slots: new()
        {
            ["pose"] = new()
            {
                ["standing"] = ["standing", "standing upright on both feet", "upright on its feet", "standing tall"],
                ["kneeling"] = ["kneeling", "on its knees", "kneeling on the floor", "down on both knees"],
                ["crouching"] = ["crouching", "bent over", "half down", "squatting low"],
                ["lying"] = ["lying on the ground", "fallen on the floor", "lying flat", "collapsed on the ground"],
                ["lotus"] = ["sitting cross-legged", "seated with its legs folded in", "sitting on the floor with crossed legs", "in a meditation seat"],
                ["splits"] = ["doing a split", "with its legs split wide along the floor", "in a full split", "stretched into a split"],
            },
            ["stance"] = new()
            {
                ["one-leg"] = ["balancing on a single leg", "standing on one foot", "with one foot lifted off the floor", "raising one knee while standing"],
            },
            ["arms"] = new()
            {
                ["raised"] = ["its arms up above its head", "both hands held high", "its hands up in the air", "its arms reaching overhead"],
                ["crossed"] = ["its arms folded across its chest", "its arms folded", "its forearms crossed in front of it", "folded arms"],
                ["on-hips"] = ["its hands resting on its hips", "its hands at its waist", "its fists on its hips", "arms akimbo"],
            },
        },
        Templates:
        [
            "a humanoid {pose}",
            "the robot is {pose}",
            "a robot figure {pose}",
            "the humanoid robot {pose}",
            "a simulated humanoid {pose} on a checkered floor",
            "a humanoid {stance}",
            "the robot is {stance}",
            "a humanoid {pose} with {arms}",
            "the robot stands with {arms}",
            "a robot figure with {arms}",
        ],
        Generic: ["a humanoid", "a robot on a floor", "a simulated humanoid body", "the robot", "a humanoid figure in a room"]);

    /// <summary>Templates name slots as {key}; a caption from a template asserts the scene and each filled slot's fact.</summary>
    private sealed record SceneGrammar(string Scene, Dictionary<string, Dictionary<string, string[]>> Slots, string[] Templates, string[] Generic)
    {
        private readonly Dictionary<string, (IReadOnlyList<Caption>, IReadOnlyList<Caption>)> _cache = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        /// <summary>The generic captions of the scene, and those the templates make from these facts.</summary>
        public (IReadOnlyList<Caption> Generic, IReadOnlyList<Caption> Specific) CaptionsFor(IReadOnlySet<SceneFact> facts)
        {
            var key = string.Join("|", facts.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.ToString()));
            lock (_lock)
            {
                if (!_cache.TryGetValue(key, out var captions))
                {
                    var all = Expand(facts);
                    _cache[key] = captions = (all[..Generic.Length], all[Generic.Length..]);
                }
                return captions;
            }
        }

        public IEnumerable<Caption> AllCaptions()
        {
            // Every combination of one value per slot covers every template filling.
            IEnumerable<List<SceneFact>> combinations = [[new SceneFact("scene", Scene)]];
            foreach (var (slot, values) in Slots)
            {
                combinations = combinations.SelectMany(c => values.Keys.Select(v => new List<SceneFact>(c) { new(slot, v) }));
            }
            return combinations.SelectMany(c => Expand(c.ToHashSet())).DistinctBy(c => c.Text);
        }

        private List<Caption> Expand(IReadOnlySet<SceneFact> facts)
        {
            var sceneFact = new SceneFact("scene", Scene);
            var captions = Generic.Select(text => new Caption(text, [sceneFact])).ToList();
            foreach (var template in Templates)
            {
                var fillings = new List<(string Text, List<SceneFact> Facts)> { (template, [sceneFact]) };
                foreach (var (slot, values) in Slots)
                {
                    var marker = "{" + slot + "}";
                    if (!template.Contains(marker, StringComparison.Ordinal)) continue;
                    var fact = facts.FirstOrDefault(f => f.Key == slot);
                    if (fact.Key is null || !values.TryGetValue(fact.Value, out var phrases))
                    {
                        fillings.Clear();
                        break;
                    }
                    fillings = fillings.SelectMany(f => phrases.Select(p => (f.Text.Replace(marker, p, StringComparison.Ordinal), new List<SceneFact>(f.Facts) { fact }))).ToList();
                }
                captions.AddRange(fillings.Select(f => new Caption(f.Text, f.Facts)));
            }
            return captions;
        }
    }
}
