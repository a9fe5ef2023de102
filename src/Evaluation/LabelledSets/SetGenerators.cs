using VlmRm.Envs;
using VlmRm.Envs.Mujoco;
using VlmRm.Evaluation.Rollouts;
using VlmRm.Rl;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Evaluation.LabelledSets;

/// <summary>Makes labelled sets (paper appendices A and B): uniform classic-control states, or frames of rollouts of a run's checkpoints.</summary>
public static class SetGenerators
{
    /// <summary>States drawn uniformly (appendix A's distribution for the toy environments), labelled by the goal predicate.</summary>
    public static LabelledSet UniformStates(string envId, int count, int seed, string outputDirectory, int frameSize = 224, string? assetsDirectory = null, IProgress<int>? progress = null)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), count, "A labelled set needs at least 2 states.");
        using var states = new ClassicControlStates(envId, new EnvOptions { RenderWidth = frameSize, RenderHeight = frameSize, AssetsDirectory = assetsDirectory });
        var writer = new LabelledSetWriter(outputDirectory, frameSize, frameSize);
        var rng = new Rng((ulong)seed);
        var frame = new byte[frameSize * frameSize * 3];
        for (var i = 0; i < count; i++)
        {
            var state = new float[states.StateSize];
            states.SampleState(rng, state);
            states.Render(state, frame);
            writer.Add(frame, states.IsGoal(state), $"uniform seed={seed} #{i}", states.GoalPredicate, state);
            progress?.Report(i + 1);
        }
        return writer.Complete(states.Spec.Id, states.IsCartPole ? "pole upright" : "car at the goal", $"{count} states drawn uniformly (seed {seed})");
    }

    /// <summary>
    /// Frames of deterministic rollouts of every stored checkpoint of a run (appendix B's procedure), labelled with
    /// the Humanoid's geometric <paramref name="pose"/> test, or the environment's own success predicate when no
    /// pose is given. Poses without a trustworthy test are labelled by people on the review page instead.
    /// </summary>
    public static async Task<LabelledSet> CheckpointRollouts(RunConfig config, string runId, ICheckpointStore store, string outputDirectory,
        int episodesPerCheckpoint, int frameSize, HumanoidPose? pose, int seed = 30_000, CancellationToken cancellationToken = default)
    {
        var checkpoints = await store.ListAsync(runId, cancellationToken);
        if (checkpoints.Count == 0) throw new InvalidDataException($"Run '{runId}' has no checkpoints in the store.");
        using var env = EnvRegistry.Make(config.Env, config.EnvironmentOptions(new FrameSize(frameSize, frameSize)));
        if (pose is not null && env is not HumanoidEnv) throw new ArgumentException($"A pose test applies to the Humanoid, not to {config.Env}.");
        var spec = env.Spec;
        var writer = new LabelledSetWriter(outputDirectory, frameSize, frameSize);
        var frame = new byte[spec.FrameBytes];
        var labeller = pose is { } p ? $"predicate:{p.ToString().ToLowerInvariant()}" : $"predicate:{spec.Id}-success";
        foreach (var info in checkpoints)
        {
            using var checkpoint = await store.LoadAsync(info, cancellationToken)
                             ?? throw new InvalidDataException($"Checkpoint {info.Name} of run '{runId}' is missing or does not verify (size/SHA-256); delete it or rerun.");
            using var policy = RunCheckpoint.LoadPolicy(config, spec, checkpoint.Content);
            var player = new PolicyEpisodes(policy, env, info.Timesteps, seed);
            for (var episode = 0; episode < episodesPerCheckpoint; episode++)
            {
                player.Run((step, result) =>
                {
                    env.Render(frame);
                    var isGoal = pose is { } test ? HumanoidPoses.Holds(test, ((HumanoidEnv)env).Body) : result.IsSuccess;
                    writer.Add(frame, isGoal, $"{runId}/{info.Name}/episode {episode}/step {step}", labeller);
                }, cancellationToken);
            }
        }
        return writer.Complete(spec.Id, pose?.ToString().ToLowerInvariant() ?? "success", $"Rollouts of {checkpoints.Count} checkpoints of {runId}, {episodesPerCheckpoint} episode(s) each");
    }
}
