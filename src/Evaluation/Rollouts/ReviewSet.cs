using System.Text.Json;
using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Rollouts;

/// <summary>One recorded episode: its video, the frames a person labels (every <c>FrameStride</c>-th step), and what is known about them.</summary>
public sealed record ReviewEpisode
{
    public required string Id { get; init; }
    public required string Video { get; init; }
    public required List<string> Frames { get; init; }
    public required List<int> Steps { get; init; }

    /// <summary>The geometric goal predicate on each labelled frame, where the task has one.</summary>
    public List<bool>? Predicate { get; init; }

    /// <summary>The CLIP reward of each labelled frame, when the recording was made with a reward model.</summary>
    public List<float>? Rewards { get; init; }

    public double GroundTruthReturn { get; init; }
    public int Length { get; init; }

    /// <summary>Whether the episode's last state met the goal predicate: the ground-truth success the trainer reports.</summary>
    public bool? GoalAtEnd { get; init; }
}

/// <summary>
/// Rollout videos of one checkpoint for human evaluation (paper appendix B): <c>review.json</c> plus
/// <c>episodes/ep-NNN.mp4</c> and the episode's frames. The labelling page reads it.
/// </summary>
public sealed record ReviewSet
{
    public const string FormatName = "vlmrm-review-set";
    public const int FormatVersion = 1;
    public const string ManifestFile = "review.json";

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = FormatVersion;
    public required string Env { get; init; }

    /// <summary>What counts as the goal, shown to the person labelling (paper Table 2).</summary>
    public required string Task { get; init; }
    public required string RunId { get; init; }
    public required string Checkpoint { get; init; }
    public long CheckpointTimesteps { get; init; }
    public int FrameStride { get; init; }
    public int FrameWidth { get; init; }
    public int FrameHeight { get; init; }

    /// <summary>The videos' frame rate (sets recorded before it was stored play at the recorder's default).</summary>
    public int FramesPerSecond { get; init; } = 30;
    public string? RewardModel { get; init; }
    public required List<ReviewEpisode> Episodes { get; init; }

    public static ReviewSet Load(string directory)
    {
        var path = Path.Combine(Path.GetFullPath(directory), ManifestFile);
        if (!File.Exists(path)) throw new InvalidDataException($"{directory} is not a review set: {ManifestFile} is missing (record one with `vlmrm evaluate videos`).");
        ReviewSet set;
        try
        {
            set = JsonSerializer.Deserialize<ReviewSet>(File.ReadAllText(path), LabelledSet.Json) ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        if (set.Format != FormatName || set.Version != FormatVersion) throw new InvalidDataException($"{path}: format {set.Format} v{set.Version}, this build reads {FormatName} v{FormatVersion}.");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var episode in set.Episodes)
        {
            if (!ids.Add(episode.Id)) throw new InvalidDataException($"{path}: episode '{episode.Id}' appears twice.");
            if (episode.Frames.Count == 0 || episode.Steps.Count != episode.Frames.Count
                || episode.Predicate is { } p && p.Count != episode.Frames.Count || episode.Rewards is { } r && r.Count != episode.Frames.Count)
            {
                throw new InvalidDataException($"{path}: episode '{episode.Id}' lists {episode.Frames.Count} frames, {episode.Steps.Count} steps, {episode.Predicate?.Count} predicate values and {episode.Rewards?.Count} rewards.");
            }
            foreach (var file in episode.Frames.Append(episode.Video))
            {
                if (!File.Exists(Path.Combine(directory, file))) throw new InvalidDataException($"{path}: episode '{episode.Id}' refers to {file}, which is missing.");
            }
        }
        return set;
    }

    public void Save(string directory) =>
        AtomicFile.WriteAllBytes(Path.Combine(directory, ManifestFile), JsonSerializer.SerializeToUtf8Bytes(this, LabelledSet.Json));
}
