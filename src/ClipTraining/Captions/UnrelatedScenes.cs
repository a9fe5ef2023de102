namespace VlmRm.ClipTraining.Captions;

/// <summary>
/// Sentences about scenes none of VlmRm's environments shows (an old man in a library, a teapot on a beach …):
/// true of no training frame, they are what the off-scene term of <see cref="ClipTrainer.ContrastiveLoss"/> holds flat
/// across every environment's frames, so that a sentence about something else earns no reward by accident.
/// Written from their own nouns and places, none of which appears in the held-out off-task sentences that measure
/// exactly that (<see cref="Evaluation.Language.HeldOutLanguage"/>), nor in the environments' own captions.
/// </summary>
public static class UnrelatedScenes
{
    private static readonly string[] Subjects =
    [
        "a dog", "a toddler", "an old man", "a young woman", "a brown horse", "a bicycle", "a red umbrella",
        "a stack of books", "an acoustic guitar", "a teapot", "a pair of shoes", "a parrot", "an open laptop",
        "a vase of tulips", "a slice of pizza", "a wall clock", "an oak tree", "a goldfish", "a sandwich", "a camping tent",
        "a desk lamp", "a suitcase", "a cup of coffee", "a wooden chair",
    ];

    private static readonly string[] Places =
    [
        "on a sandy beach", "in a snowy forest", "in a crowded market", "in a quiet library", "in a grassy meadow",
        "in a tiled bathroom", "at a birthday party", "in a rainy garden", "on a wooden desk", "in a museum hall",
        "under a cloudless sky", "beside a river", "in a classroom", "on a train platform", "in a desert", "at a wedding",
    ];

    private static readonly string[] Framings = ["{0} {1}", "a photo of {0} {1}"];

    /// <summary>Every subject in every place, in both framings (768 sentences).</summary>
    public static IReadOnlyList<string> Sentences { get; } =
        [.. Framings.SelectMany(framing => Subjects.SelectMany(subject => Places.Select(place => string.Format(System.Globalization.CultureInfo.InvariantCulture, framing, subject, place))))];
}
