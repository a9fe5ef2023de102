using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Evaluation.Rollouts;

/// <summary>What the labelling page posts for one episode: a goal/non-goal label per listed frame, and the token the page was given for it.</summary>
public sealed record HumanLabelSubmission(string Episode, string Labeller, int[] Frames, string Token);

/// <summary>A stored label of one episode by one person. Success follows the paper: goal pose in at least half of the timesteps.</summary>
public sealed record HumanEpisodeLabel(string Episode, string Labeller, bool[] Frames, double GoalFraction, bool Success, DateTimeOffset Submitted);

public sealed record LabellerSummary(string Labeller, int Episodes, double SuccessRate);

/// <summary>Success rates of the labelled episodes and, where the recording carries CLIP rewards, EPIC to the human frame labels.</summary>
public sealed record HumanLabelSummary(int Episodes, int LabelledEpisodes, double? SuccessRate, IReadOnlyList<LabellerSummary> Labellers, double? Epic, string EpicNote);

/// <summary>
/// What the labels of one frame say: how many people labelled it and how many saw the goal, its CLIP reward where the
/// recording has one, and whether the labellers split on it or CLIP rewards it like the other class (see
/// <see cref="HumanLabelStore.Agreement"/>).
/// </summary>
public sealed record FrameAgreement(int Frame, int Step, int Votes, int GoalVotes, float? ClipReward, bool LabellersDisagree, bool ClipDisagrees);

/// <summary>An episode's labels side by side: who labelled it, their verdicts, and each frame's <see cref="FrameAgreement"/>.</summary>
public sealed record EpisodeAgreement(string Episode, IReadOnlyList<HumanEpisodeLabel> Labels, bool SuccessDisputed, IReadOnlyList<FrameAgreement> Frames);

/// <summary>A submission the store refuses, with the reason shown to the person; <see cref="IsConflict"/> marks duplicates.</summary>
public sealed class LabelRejectedException(string message, bool isConflict = false) : Exception(message)
{
    public bool IsConflict { get; } = isConflict;
}

/// <summary>
/// Human labels of a review set (paper appendix B, Table 2): per episode, which labelled frames show the goal,
/// hence the fraction of timesteps in the goal pose and success (≥ 50%). Every submission is checked against a
/// token the page was handed for that episode (an HMAC of the episode and its frame count under a key kept
/// beside the set), so an edited episode id or frame list is refused; one person labels an episode once.
/// The labels file is rewritten atomically on every accepted submission.
/// </summary>
public sealed partial class HumanLabelStore
{
    public const string LabelsFile = "human-labels.jsonl";
    public const string KeyFile = ".label-key";
    public const double SuccessThreshold = 0.5;

    private readonly string _directory;
    private readonly byte[] _key;
    private readonly Lock _lock = new();
    private readonly List<HumanEpisodeLabel> _labels;

    public HumanLabelStore(string reviewDirectory)
    {
        _directory = Path.GetFullPath(reviewDirectory);
        Set = ReviewSet.Load(_directory);
        var keyPath = Path.Combine(_directory, KeyFile);
        if (!File.Exists(keyPath)) AtomicFile.WriteAllBytes(keyPath, RandomNumberGenerator.GetBytes(32));
        _key = File.ReadAllBytes(keyPath);
        _labels = LoadLabels();
    }

    public ReviewSet Set { get; }
    public string Directory => _directory;

    public IReadOnlyList<HumanEpisodeLabel> Labels
    {
        get
        {
            lock (_lock) return [.. _labels];
        }
    }

    public string TokenFor(string episodeId)
    {
        var episode = Episode(episodeId);
        var message = Encoding.UTF8.GetBytes($"{Set.RunId}|{Set.Checkpoint}|{episode.Id}|{episode.Frames.Count}");
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, message));
    }

    public HumanEpisodeLabel Submit(HumanLabelSubmission submission)
    {
        var labeller = submission.Labeller?.Trim() ?? "";
        if (!LabellerName().IsMatch(labeller)) throw new LabelRejectedException("Enter your name (1–64 letters, digits, spaces, '.', '_' or '-') so the labels are attributed.");
        var episode = Episode(submission.Episode);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(TokenFor(episode.Id)), Encoding.ASCII.GetBytes(submission.Token ?? "")))
        {
            throw new LabelRejectedException($"The submission for episode '{episode.Id}' does not match what this page served (bad token): it was altered or is from another review set. Reload the page.");
        }
        if (submission.Frames is null || submission.Frames.Length != episode.Frames.Count)
        {
            throw new LabelRejectedException($"Episode '{episode.Id}' has {episode.Frames.Count} frames to label; the submission has {submission.Frames?.Length ?? 0}.");
        }
        if (submission.Frames.Any(v => v is not (0 or 1))) throw new LabelRejectedException("Every frame label must be 0 (not the goal) or 1 (goal).");
        var frames = submission.Frames.Select(v => v == 1).ToArray();
        var fraction = frames.Count(f => f) / (double)frames.Length;
        var label = new HumanEpisodeLabel(episode.Id, labeller, frames, fraction, fraction >= SuccessThreshold, DateTimeOffset.UtcNow);
        lock (_lock)
        {
            if (_labels.Any(l => l.Episode == episode.Id && string.Equals(l.Labeller, labeller, StringComparison.OrdinalIgnoreCase)))
            {
                throw new LabelRejectedException($"{labeller} has already labelled episode '{episode.Id}'; a second submission is refused.", isConflict: true);
            }
            _labels.Add(label);
            try
            {
                Persist();
            }
            catch
            {
                _labels.RemoveAt(_labels.Count - 1);
                throw;
            }
        }
        return label;
    }

    public HumanLabelSummary Summarize()
    {
        var labels = Labels;
        var labellers = labels.GroupBy(l => l.Labeller, StringComparer.OrdinalIgnoreCase)
            .Select(g => new LabellerSummary(g.Key, g.Count(), g.Count(l => l.Success) / (double)g.Count()))
            .OrderBy(s => s.Labeller, StringComparer.OrdinalIgnoreCase).ToList();
        double? successRate = labels.Count == 0 ? null : labels.Count(l => l.Success) / (double)labels.Count;
        var (epic, note) = EpicToHumanLabels(labels);
        return new HumanLabelSummary(Set.Episodes.Count, labels.Select(l => l.Episode).Distinct().Count(), successRate, labellers, epic, note);
    }

    /// <summary>
    /// Every episode's labels compared. Labellers disagree on a frame some of them called the goal and some did not.
    /// CLIP disagrees with the people on a frame they agree on (by majority) when its reward sits on the other class's
    /// side: a goal frame rewarded below the mean reward of the set's non-goal frames, or a non-goal frame above the mean
    /// of its goal frames. Both classes must occur among the labelled frames, else CLIP disagrees with nothing.
    /// </summary>
    public IReadOnlyList<EpisodeAgreement> Agreement()
    {
        var labels = Labels;
        var votes = Set.Episodes.ToDictionary(e => e.Id, e => (Votes: new int[e.Frames.Count], Goal: new int[e.Frames.Count]));
        foreach (var label in labels)
        {
            var (all, goal) = votes[label.Episode];
            for (var i = 0; i < label.Frames.Length; i++)
            {
                all[i]++;
                if (label.Frames[i]) goal[i]++;
            }
        }
        // The mean CLIP reward of the frames people call the goal, and of those they call not the goal.
        var goalRewards = new List<float>();
        var otherRewards = new List<float>();
        foreach (var episode in Set.Episodes.Where(e => e.Rewards is not null))
        {
            var (all, goal) = votes[episode.Id];
            for (var i = 0; i < all.Length; i++)
            {
                if (all[i] == 0 || 2 * goal[i] == all[i]) continue;
                (2 * goal[i] > all[i] ? goalRewards : otherRewards).Add(episode.Rewards![i]);
            }
        }
        var comparable = goalRewards.Count > 0 && otherRewards.Count > 0;
        var goalMean = comparable ? goalRewards.Average() : 0;
        var otherMean = comparable ? otherRewards.Average() : 0;

        return Set.Episodes.Select(episode =>
        {
            var (all, goal) = votes[episode.Id];
            var frames = Enumerable.Range(0, all.Length).Select(i =>
            {
                float? reward = episode.Rewards is { } rewards ? rewards[i] : null;
                var majorityGoal = 2 * goal[i] > all[i];
                var majorityOther = all[i] > 0 && 2 * goal[i] < all[i];
                var clipDisagrees = comparable && reward is { } r && (majorityGoal && r < otherMean || majorityOther && r > goalMean);
                return new FrameAgreement(i, episode.Steps[i], all[i], goal[i], reward, goal[i] > 0 && goal[i] < all[i], clipDisagrees);
            }).ToList();
            var episodeLabels = labels.Where(l => l.Episode == episode.Id).ToList();
            return new EpisodeAgreement(episode.Id, episodeLabels, episodeLabels.Select(l => l.Success).Distinct().Count() > 1, frames);
        }).ToList();
    }

    /// <summary>CSV of every frame label: episode, step, frame, label, labeller, submitted.</summary>
    public string ExportCsv()
    {
        var csv = new StringBuilder("episode,step,frame,label,labeller,goal_fraction,success,submitted\n");
        foreach (var label in Labels)
        {
            var episode = Episode(label.Episode);
            for (var i = 0; i < label.Frames.Length; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{label.Episode},{episode.Steps[i]},{episode.Frames[i]},{(label.Frames[i] ? 1 : 0)},{CsvText.Field(label.Labeller)},{label.GoalFraction:F3},{label.Success},{label.Submitted:O}\n");
            }
        }
        return csv.ToString();
    }

    /// <summary>The frame labels as a labelled set for EPIC (one labeller, or all when each episode has one label).</summary>
    public LabelledSet ExportLabelledSet(string outputDirectory, string? labeller = null)
    {
        var chosen = Labels.Where(l => labeller is null || string.Equals(l.Labeller, labeller, StringComparison.OrdinalIgnoreCase)).ToList();
        if (chosen.Count == 0) throw new InvalidDataException(labeller is null ? "No episode has been labelled yet." : $"{labeller} has labelled no episode.");
        var duplicate = chosen.GroupBy(l => l.Episode).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"Episode {duplicate.Key} has labels from {string.Join(", ", duplicate.Select(l => l.Labeller))}; export one labeller's labels (--labeller).");
        var writer = new LabelledSetWriter(outputDirectory, Set.FrameWidth, Set.FrameHeight);
        foreach (var label in chosen)
        {
            var episode = Episode(label.Episode);
            for (var i = 0; i < label.Frames.Length; i++)
            {
                var image = Png.Read(Path.Combine(_directory, episode.Frames[i]));
                writer.Add(image.ToRgb(), label.Frames[i], $"{Set.RunId}/{Set.Checkpoint}/{episode.Id}/step {episode.Steps[i]}", $"human:{label.Labeller}");
            }
        }
        return writer.Complete(Set.Env, Set.Task, $"Human labels of rollouts of {Set.RunId} ({Set.Checkpoint})");
    }

    private ReviewEpisode Episode(string id) =>
        Set.Episodes.FirstOrDefault(e => e.Id == id) ?? throw new LabelRejectedException($"There is no episode '{id}' in this review set.");

    private (double? Epic, string Note) EpicToHumanLabels(IReadOnlyList<HumanEpisodeLabel> labels)
    {
        var rewards = new List<float>();
        var goals = new List<bool>();
        foreach (var label in labels)
        {
            var episode = Episode(label.Episode);
            if (episode.Rewards is null) return (null, "The videos were recorded without a reward model (record with --model to compare CLIP rewards with these labels).");
            rewards.AddRange(episode.Rewards);
            goals.AddRange(label.Frames);
        }
        if (goals.Count == 0) return (null, "No labels yet.");
        if (goals.All(g => g) || goals.All(g => !g)) return (null, "EPIC needs both goal and non-goal frames among the labels.");
        return (EpicDistance.ToGoalLabels(rewards.ToArray(), goals.ToArray()), $"EPIC distance of {Set.RewardModel} to {goals.Count} human frame labels (Lemma 1).");
    }

    private List<HumanEpisodeLabel> LoadLabels()
    {
        var path = Path.Combine(_directory, LabelsFile);
        if (!File.Exists(path)) return [];
        var labels = new List<HumanEpisodeLabel>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                labels.Add(JsonSerializer.Deserialize<HumanEpisodeLabel>(text, LabelledSet.Json) ?? throw new InvalidDataException("empty line"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{line}: {e.Message}", e);
            }
        }
        return labels;
    }

    private void Persist()
    {
        var text = new StringBuilder();
        var compact = new JsonSerializerOptions(LabelledSet.Json) { WriteIndented = false };
        foreach (var label in _labels) text.Append(JsonSerializer.Serialize(label, compact)).Append('\n');
        AtomicFile.WriteAllBytes(Path.Combine(_directory, LabelsFile), Encoding.UTF8.GetBytes(text.ToString()));
    }

    [GeneratedRegex(@"^[\p{L}\p{Nd} ._-]{1,64}$")]
    private static partial Regex LabellerName();
}
