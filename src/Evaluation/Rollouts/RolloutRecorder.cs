using VlmRm.Clip.Reward;
using VlmRm.Envs;
using VlmRm.Envs.Imaging;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Evaluation.Rollouts;

public sealed record RolloutOptions
{
    public int Episodes { get; init; } = 10;
    public int FrameWidth { get; init; } = 256;
    public int FrameHeight { get; init; } = 256;

    /// <summary>Every n-th step's frame is kept for labelling (the video has them all).</summary>
    public int FrameStride { get; init; } = 5;
    public int Seed { get; init; } = 20_000;
    public int FramesPerSecond { get; init; } = 30;

    /// <summary>The goal as the person labelling should judge it (paper Table 2), e.g. "kneeling: both knees on the floor, torso upright".</summary>
    public string Task { get; init; } = "the goal state";
}

/// <summary>
/// MP4 rollouts of a checkpoint for human evaluation (paper appendix B): by default the run's best checkpoint,
/// the one with the highest training (labelled) reward, as the paper selects it. The deterministic policy
/// runs N episodes; each becomes a video plus the frames that are labelled on the web page.
/// </summary>
public static class RolloutRecorder
{
    public static async Task<ReviewSet> RecordAsync(RunConfig config, string runId, ICheckpointStore store, string outputDirectory, RolloutOptions options,
        ClipRewardModel? rewardModel = null, IProgress<int>? episodesDone = null, bool latestInsteadOfBest = false, CancellationToken cancellationToken = default)
    {
        if (options.Episodes < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Episodes, "Record at least one episode.");
        if (options.FrameStride < 1) throw new ArgumentOutOfRangeException(nameof(options), options.FrameStride, "The frame stride must be ≥ 1.");
        using var checkpoint = (latestInsteadOfBest ? await store.LoadLatestAsync(runId, cancellationToken) : await store.LoadBestAsync(runId, cancellationToken))
                         ?? throw new InvalidDataException($"Run '{runId}' has no intact {(latestInsteadOfBest ? "latest" : "best")} checkpoint in the store; train it first (`vlmrm train`).");

        using var env = EnvRegistry.Make(config.Env, config.EnvironmentOptions(new FrameSize(options.FrameWidth, options.FrameHeight)));
        using var policy = RunCheckpoint.LoadPolicy(config, env.Spec, checkpoint.Content);
        var root = Path.GetFullPath(outputDirectory);
        Directory.CreateDirectory(Path.Combine(root, "episodes"));

        var frame = new byte[env.Spec.FrameBytes];
        var embedding = rewardModel is null ? [] : new float[rewardModel.EmbedDim];
        var reward = new float[1];
        var player = new PolicyEpisodes(policy, env, checkpoint.Info.Timesteps, options.Seed);
        var episodes = new List<ReviewEpisode>();
        for (var e = 0; e < options.Episodes; e++)
        {
            var id = $"ep-{e:D3}";
            var frames = new List<string>();
            var steps = new List<int>();
            var predicate = new List<bool>();
            var rewards = rewardModel is null ? null : new List<float>();
            var length = 0;
            var goalAtEnd = false;
            double episodeReturn;
            using (var video = new Mp4Writer(Path.Combine(root, "episodes", id + ".mp4"), options.FrameWidth, options.FrameHeight, options.FramesPerSecond))
            {
                episodeReturn = player.Run((step, result) =>
                {
                    length = step + 1;
                    goalAtEnd = result.IsSuccess;
                    env.Render(frame);
                    video.WriteFrame(frame);
                    if (step % options.FrameStride != 0) return;
                    var name = $"episodes/{id}/step-{step:D4}.png";
                    AtomicFile.WriteAllBytes(Path.Combine(root, name), Png.Encode(frame, options.FrameWidth, options.FrameHeight, 3));
                    frames.Add(name);
                    steps.Add(step);
                    predicate.Add(result.IsSuccess);
                    if (rewardModel is null) return;
                    rewardModel.Label(frame, options.FrameHeight, options.FrameWidth, reward, embedding);
                    rewards!.Add(reward[0]);
                }, cancellationToken);
                video.Complete();
            }
            episodes.Add(new ReviewEpisode
            {
                Id = id, Video = $"episodes/{id}.mp4", Frames = frames, Steps = steps, Predicate = predicate, Rewards = rewards,
                GroundTruthReturn = episodeReturn, Length = length, GoalAtEnd = goalAtEnd,
            });
            episodesDone?.Report(e + 1);
        }
        var set = new ReviewSet
        {
            Env = config.Env, Task = options.Task, RunId = runId, Checkpoint = checkpoint.Info.Name, CheckpointTimesteps = checkpoint.Info.Timesteps,
            FrameStride = options.FrameStride, FrameWidth = options.FrameWidth, FrameHeight = options.FrameHeight, FramesPerSecond = options.FramesPerSecond,
            RewardModel = rewardModel is null ? null : $"{rewardModel.Model.Folder.Name} alpha={rewardModel.Reward.Alpha}",
            Episodes = episodes,
        };
        set.Save(root);
        return set;
    }
}
