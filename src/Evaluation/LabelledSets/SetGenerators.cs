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
    /// Humanoid states (<see cref="HumanoidStates"/>: half posed, half from a random policy) labelled by
    /// <paramref name="task"/>'s pose predicate (<see cref="HumanoidPoses"/>).
    /// </summary>
    public static LabelledSet HumanoidPoseStates(HumanoidPose task, int count, int seed, string outputDirectory, int frameSize = 224, string? assetsDirectory = null, IProgress<int>? progress = null)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), count, "A labelled set needs at least 2 states.");
        using var states = new HumanoidStates(frameSize, assetsDirectory, task);
        var writer = new LabelledSetWriter(outputDirectory, frameSize, frameSize);
        var name = HumanoidSkeleton.ConfigName(task);
        foreach (var state in states.Sample(count, seed))
        {
            writer.Add(state.Frame, HumanoidPoses.Holds(task, state.Body), state.Source, $"predicate:{name}");
            progress?.Report(writer.Count);
        }
        return writer.Complete(states.EnvId, name, $"{count} Humanoid states, half posed and half from a random policy (seed {seed})");
    }

    /// <summary>
    /// Frames of deterministic rollouts of every stored checkpoint of a run (appendix B's procedure), labelled with
    /// the Humanoid's geometric <paramref name="pose"/> test (<see cref="HumanoidPoses"/>), or the environment's own
    /// success predicate when no pose is given; people check them on the review page.
    /// </summary>
    public static async Task<LabelledSet> CheckpointRollouts(RunConfig config, string runId, ICheckpointStore store, string outputDirectory,
        int episodesPerCheckpoint, int frameSize, HumanoidPose? pose, int seed = 30_000, CancellationToken cancellationToken = default)
    {
        var checkpoints = await store.ListAsync(runId, cancellationToken);
        if (checkpoints.Count == 0) throw new InvalidDataException($"Run '{runId}' has no checkpoints in the store.");
        using var env = EnvRegistry.Make(config.Env, config.EnvironmentOptions(new FrameSize(frameSize, frameSize)));
        if (pose is { } asked)
        {
            if (env is not HumanoidEnv humanoid) throw new ArgumentException($"A pose test applies to the Humanoid, not to {config.Env}.");
            humanoid.Skeleton.Require(asked);
        }
        var spec = env.Spec;
        var writer = new LabelledSetWriter(outputDirectory, frameSize, frameSize);
        var frame = new byte[spec.FrameBytes];
        var labeller = pose is { } p ? $"predicate:{HumanoidSkeleton.ConfigName(p)}" : $"predicate:{spec.Id}-success";
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
        return writer.Complete(spec.Id, (pose is { } named ? HumanoidSkeleton.ConfigName(named) : "success"), $"Rollouts of {checkpoints.Count} checkpoints of {runId}, {episodesPerCheckpoint} episode(s) each");
    }
}
