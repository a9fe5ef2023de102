using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

public class CheckpointTests
{
    private static RunConfig Dqn(long total) => new()
    {
        Env = "CartPole", Algorithm = AlgorithmKind.Dqn, TotalTimesteps = total, Seed = 3, NumEnvs = 2, CheckpointInterval = 0,
        Dqn = new DqnOptions { LearningStarts = 100, TrainFreq = 4, GradientSteps = 2, BatchSize = 16, TargetUpdateInterval = 50, NetArch = [32, 32] },
        Reward = new RewardSection { BatchSize = 8 },
    };

    private static RunConfig Sac(long total) => new()
    {
        Env = "MountainCar", Algorithm = AlgorithmKind.Sac, TotalTimesteps = total, Seed = 5, NumEnvs = 2,
        Sac = new SacOptions { LearningStarts = 50, TrainFreq = 2, GradientSteps = 2, BatchSize = 16, NetArch = [16, 16] },
        Reward = new RewardSection { BatchSize = 6 },
    };

    public static TheoryData<string> AlgorithmNames => new("dqn", "sac");

    /// <summary>Train, save, load into a fresh trainer, continue: the same actions, observations and losses as never stopping.</summary>
    [Theory]
    [MemberData(nameof(AlgorithmNames))]
    public async Task Resumed_run_continues_the_same_curve(string algorithm)
    {
        var config = algorithm == "dqn" ? Dqn(600) : Sac(300);
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-ckpt-").FullName);
        var ct = TestContext.Current.CancellationToken;

        using var original = new Algorithm1Trainer(config, new GroundTruthLabeller(), "run-a", store);
        while (original.Timesteps < 400 * config.NumEnvs / 2) await original.StepAsync(ct);
        await original.SaveCheckpointAsync(ct);
        var expected = await Trace(original, 60, ct);

        using var resumed = new Algorithm1Trainer(config, new GroundTruthLabeller(), "run-a", store);
        Assert.True(await resumed.TryResumeAsync(ct));
        Assert.Equal(original.Timesteps - 60 * config.NumEnvs, resumed.Timesteps);
        var actual = await Trace(resumed, 60, ct);
        Assert.Equal(expected, actual);
    }

    private static async Task<List<string>> Trace(Algorithm1Trainer trainer, int steps, CancellationToken ct)
    {
        var trace = new List<string>();
        var observation = new float[trainer.EnvSpec.ObservationSize * trainer.Config.NumEnvs];
        var actions = new float[trainer.EnvSpec.ActionSize * trainer.Config.NumEnvs];
        var rng = new Envs.Rng(9);
        for (var t = 0; t < steps; t++)
        {
            var before = trainer.LastTrainStatistics;
            await trainer.StepAsync(ct);
            if (!ReferenceEquals(before, trainer.LastTrainStatistics))
            {
                trace.Add(string.Join(";", trainer.LastTrainStatistics.Values.OrderBy(v => v.Key).Select(v => $"{v.Key}={v.Value:R}")));
            }
        }
        // The policy after the steps, on a fixed observation.
        trainer.Algorithm.Act(observation, trainer.Config.NumEnvs, actions, ActMode.Deterministic, trainer.Timesteps, rng);
        trace.Add(string.Join(",", actions));
        trace.Add($"t={trainer.Timesteps} eval={trainer.Evaluate(2).MeanReturn:R}");
        return trace;
    }

    [Fact]
    public async Task A_run_keeps_its_newest_checkpoints_and_its_best_and_deletes_the_rest()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-retention-").FullName);
        var config = Dqn(2000) with { KeepCheckpoints = 2, EpisodeLength = 20 }; // saved by hand every 200 steps
        using var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller(), "kept", store);
        var saved = new List<CheckpointInfo>();
        while (!trainer.IsComplete)
        {
            await trainer.StepAsync(ct);
            if (trainer.Timesteps % 200 == 0) saved.Add(await trainer.SaveCheckpointAsync(ct));
        }
        var best = saved.Where(c => double.IsFinite(c.TrainingReward)).MaxBy(c => c.TrainingReward)!;
        var kept = await store.ListAsync("kept", ct);
        Assert.Equal(saved.OrderBy(c => c.Timesteps).TakeLast(2).Append(best).Select(c => c.Name).Distinct().Order(), kept.Select(c => c.Name).Order());
        Assert.Equal(saved[^1].Name, (await store.LoadLatestAsync("kept", ct))!.Info.Name);
        Assert.Equal(best.Name, (await store.LoadBestAsync("kept", ct))!.Info.Name);
        Assert.Equal(kept.Count * 2 + 2, Directory.GetFiles(Path.Combine(store.Root, "kept")).Length); // data and sidecar each, and the two pointers
    }

    [Fact]
    public void Retention_keeps_the_newest_n_and_the_earliest_of_the_highest_rewards()
    {
        CheckpointInfo At(long step, double reward) => new("r", $"step-{step}", step, reward, 1, "", DateTimeOffset.UnixEpoch);
        var checkpoints = new[] { At(1, double.NaN), At(2, 5), At(3, 9), At(4, 9), At(5, 1), At(6, 2) };
        Assert.Equal([1, 2, 4], CheckpointRetention.Expired(checkpoints, keepLast: 2).Select(c => c.Timesteps));
        Assert.Empty(CheckpointRetention.Expired(checkpoints, keepLast: 0));
        Assert.Empty(CheckpointRetention.Expired(checkpoints, keepLast: 6));
    }

    [Fact]
    public async Task Best_checkpoint_follows_the_highest_training_reward_and_latest_the_newest()
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-ckpt-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "a", new MemoryStream([1]), 10, 5.0, isBest: true, ct);
        await store.SaveAsync("r", "b", new MemoryStream([2, 2]), 20, 9.0, isBest: true, ct);
        await store.SaveAsync("r", "c", new MemoryStream([3, 3, 3]), 30, 1.0, isBest: false, ct);
        using (var latest = await store.LoadLatestAsync("r", ct)) Assert.Equal("c", latest!.Info.Name);
        using (var best = await store.LoadBestAsync("r", ct)) Assert.Equal([2, 2], ReadAll(best!.Content));
        Assert.Equal(["a", "b", "c"], (await store.ListAsync("r", ct)).Select(i => i.Name));
        Assert.Null(await store.LoadLatestAsync("unknown-run", ct));
    }

    [Fact]
    public async Task A_damaged_checkpoint_is_never_loaded_the_newest_intact_one_is()
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-ckpt-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "a", new MemoryStream([1, 1]), 10, 1, false, ct);
        await store.SaveAsync("r", "b", new MemoryStream([2, 2]), 20, 1, false, ct);
        File.WriteAllBytes(Path.Combine(root, "r", "b.ckpt"), [2, 7]); // bit rot after the fact
        var loaded = await store.LoadLatestAsync("r", ct);
        Assert.Equal("a", loaded!.Info.Name);
        File.WriteAllText(Path.Combine(root, "r", "latest.json"), "{ torn");
        Assert.Equal("a", (await store.LoadLatestAsync("r", ct))!.Info.Name);
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "r"), "*.tmp"));
    }

    /// <summary>
    /// The 100-kill soak saw a run resume from step 10,000 with step 34,016 stored (2026-12-04): a pointer that an older
    /// activation wrote last. Latest is the newest intact checkpoint, and the stale pointer is named (not as damage: a
    /// save killed between its sidecar and the pointer leaves the same files).
    /// </summary>
    [Fact]
    public async Task A_stale_latest_pointer_does_not_send_a_run_back_and_is_named()
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-stale-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "step-1", new MemoryStream([1, 2]), 10_000, 1, false, ct);
        var older = File.ReadAllBytes(Path.Combine(root, "r", "latest.json"));
        await store.SaveAsync("r", "step-2", new MemoryStream([3, 4]), 34_016, 1, false, ct);
        File.WriteAllBytes(Path.Combine(root, "r", "latest.json"), older);
        using var latest = await store.LoadLatestAsync("r", ct);
        Assert.Equal("step-2", latest!.Info.Name);
        Assert.Equal("latest.json names step-1 (step 10,000), behind step-2 (step 34,016) stored beside it", latest.PointerBehind);
        Assert.Empty(latest.PassedOver);
    }

    [Fact]
    public async Task A_run_whose_only_sidecar_and_pointer_are_torn_is_refused_not_started_over()
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-torn-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "step-1", new MemoryStream([1, 2, 3, 4]), 10, 1, false, ct);
        File.WriteAllText(Path.Combine(root, "r", "step-1.json"), "{ torn");
        File.WriteAllText(Path.Combine(root, "r", "latest.json"), "{ torn");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.LoadLatestAsync("r", ct));
        Assert.Contains("step-1.json is not readable JSON, so step-1.ckpt cannot be verified", error.Message);
    }

    public static TheoryData<string> Damages() =>
        ["truncated checkpoint", "zero-length checkpoint", "bit-flipped checkpoint", "missing checkpoint", "torn sidecar", "zero-length sidecar", "torn latest pointer",
            "torn sidecar and latest pointer"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Each_kind_of_damage_is_named_and_the_newest_intact_checkpoint_resumes(string damage)
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-damage-").FullName;
        var store = new FileCheckpointStore(root);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "step-1", new MemoryStream([1, 2, 3, 4]), 10, 1, false, ct);
        await store.SaveAsync("r", "step-2", new MemoryStream([5, 6, 7, 8]), 20, 1, false, ct);
        string Path(string file) => System.IO.Path.Combine(root, "r", file);
        var expected = damage switch
        {
            "truncated checkpoint" => Damage(Path("step-2.ckpt"), b => b[..2], "step-2.ckpt holds 2 bytes, its sidecar records 4"),
            "zero-length checkpoint" => Damage(Path("step-2.ckpt"), _ => [], "step-2.ckpt holds 0 bytes, its sidecar records 4"),
            "bit-flipped checkpoint" => Damage(Path("step-2.ckpt"), b => [b[0], b[1], (byte)(b[2] ^ 1), b[3]], "step-2.ckpt does not match its SHA-256"),
            "missing checkpoint" => Delete(Path("step-2.ckpt"), "step-2.ckpt is missing"),
            "torn sidecar" => Damage(Path("step-2.json"), b => b[..(b.Length / 2)], null),
            "zero-length sidecar" => Damage(Path("step-2.json"), _ => [], null),
            "torn latest pointer" => Damage(Path("latest.json"), b => b[..(b.Length / 2)], "latest.json is not readable JSON"),
            // Nothing left names step-2's length and hash: it cannot be verified, and is named as passed over, not left out.
            _ => Damage(Path("latest.json"), b => b[..(b.Length / 2)], null) ?? Damage(Path("step-2.json"), b => b[..(b.Length / 2)], "step-2.json is not readable JSON, so step-2.ckpt cannot be verified"),
        };
        using var trainerStore = await store.LoadLatestAsync("r", ct);
        // Only damaged bytes cost step-2: a torn sidecar leaves latest.json naming it, a torn pointer leaves it the newest listed.
        var resumed = damage.EndsWith(" checkpoint", StringComparison.Ordinal) || damage == "torn sidecar and latest pointer" ? "step-1" : "step-2";
        Assert.Equal(resumed, trainerStore!.Info.Name);
        if (expected is null) Assert.Empty(trainerStore.PassedOver);
        else Assert.Contains(trainerStore.PassedOver, p => p.StartsWith(expected, StringComparison.Ordinal));

        // With every checkpoint damaged nothing is resumed, and the run says so instead of silently starting over.
        File.WriteAllBytes(Path("step-1.ckpt"), []);
        File.WriteAllBytes(Path("step-2.ckpt"), []);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.LoadLatestAsync("r", ct));
        Assert.Contains("Run r has checkpoints and none is intact (", error.Message);
        Assert.Contains("step-1.ckpt holds 0 bytes", error.Message);
        Assert.Contains("--fresh", error.Message);
    }

    private static string? Damage(string path, Func<byte[], byte[]> change, string? named)
    {
        File.WriteAllBytes(path, change(File.ReadAllBytes(path)));
        return named;
    }

    private static string Delete(string path, string named)
    {
        File.Delete(path);
        return named;
    }

    [Fact]
    public async Task A_checkpoint_of_another_run_or_a_truncated_one_is_a_clear_error()
    {
        using var dqn = new Algorithm1Trainer(Dqn(100), new GroundTruthLabeller());
        using var sac = new Algorithm1Trainer(Sac(100), new GroundTruthLabeller());
        var ct = TestContext.Current.CancellationToken;
        using var checkpoint = new MemoryStream();
        await dqn.WriteCheckpointAsync(checkpoint, ct);
        var bytes = checkpoint.ToArray();
        Assert.Contains("checkpoint is for dqn on 2×CartPole", (await Assert.ThrowsAsync<InvalidDataException>(() => sac.RestoreCheckpointAsync(new MemoryStream(bytes), ct))).Message);
        Assert.Contains("truncated", (await Assert.ThrowsAsync<InvalidDataException>(() => dqn.RestoreCheckpointAsync(new MemoryStream(bytes[..(bytes.Length / 2)]), ct))).Message);
    }

    [Fact]
    public async Task Checkpoints_stream_through_the_store_and_restore_the_same_run()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-stream-").FullName);
        using var trainer = new Algorithm1Trainer(Dqn(400), new GroundTruthLabeller(), "streamed", store);
        while (trainer.Timesteps < 300) await trainer.StepAsync(ct);
        var saved = await trainer.SaveCheckpointAsync(ct);
        using var expected = new MemoryStream();
        await trainer.WriteCheckpointAsync(expected, ct);
        using var loaded = await store.LoadLatestAsync("streamed", ct);
        Assert.Equal((saved.Bytes, expected.Length), (loaded!.Info.Bytes, loaded.Content.Length));
        Assert.Equal(expected.ToArray(), ReadAll(loaded.Content));
    }

    [Fact]
    public async Task A_failed_save_is_retried_after_its_backoff_and_best_is_a_checkpoint_that_was_stored()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new StoreFailingFirstSave(new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-flaky-").FullName));
        // An interval far longer than the 1 s backoff takes at this run's ≈ 2,000 steps/s.
        const long interval = 10_000;
        using var trainer = new Algorithm1Trainer(Dqn(1_000_000) with { CheckpointInterval = interval }, new GroundTruthLabeller(), "flaky", store);
        while (trainer.CheckpointFailures == 0) await trainer.StepAsync(ct);
        var failedAt = trainer.Timesteps;

        while ((await store.ListAsync("flaky", ct)).Count == 0) await trainer.StepAsync(ct);
        var stored = Assert.Single(await store.ListAsync("flaky", ct));
        Assert.InRange(stored.Timesteps, failedAt + 1, failedAt + interval / 2);
        Assert.Equal(1, trainer.CheckpointFailures);
        // The failed save was the run's best so far; the first stored one is best now, whatever its reward.
        using var best = await store.LoadBestAsync("flaky", ct);
        Assert.Equal(stored.Name, best!.Info.Name);
    }

    [Fact]
    public async Task A_writer_that_lost_the_run_stops_at_its_next_checkpoint_and_stores_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var inner = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-fenced-").FullName);
        var owner = true;
        var store = new FencedCheckpointStore(inner, _ => owner ? Task.CompletedTask : throw new CheckpointOwnershipLostException("another writer owns run fenced (test)"));
        using var trainer = new Algorithm1Trainer(Dqn(1_000_000) with { CheckpointInterval = 500, KeepCheckpoints = 1 }, new GroundTruthLabeller(), "fenced", store);
        while ((await inner.ListAsync("fenced", ct)).Count == 0) await trainer.StepAsync(ct);
        var kept = Assert.Single(await inner.ListAsync("fenced", ct));

        owner = false;
        // Not a store outage to retry while training goes on: the trainer stops, and neither saves nor prunes.
        var lost = await Assert.ThrowsAsync<CheckpointOwnershipLostException>(async () =>
        {
            for (var i = 0; i < 2_000; i++) await trainer.StepAsync(ct);
        });
        Assert.Contains("another writer owns run fenced", lost.Message);
        Assert.Equal(0, trainer.CheckpointFailures);
        Assert.Equal(kept, Assert.Single(await inner.ListAsync("fenced", ct)));
    }

    /// <summary>A store whose first save fails as an unreachable one would.</summary>
    private sealed class StoreFailingFirstSave(ICheckpointStore inner) : ICheckpointStore
    {
        private int _saves;

        public Task<CheckpointInfo> SaveAsync(string runId, string name, Stream content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _saves) == 1
                ? throw new IOException("storage unreachable (test)")
                : inner.SaveAsync(runId, name, content, timesteps, trainingReward, isBest, cancellationToken);

        public Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken) => inner.LoadLatestAsync(runId, cancellationToken);
        public Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken) => inner.LoadBestAsync(runId, cancellationToken);
        public Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken) => inner.ListAsync(runId, cancellationToken);
        public Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken) => inner.LoadAsync(info, cancellationToken);
        public Task DeleteAsync(CheckpointInfo info, CancellationToken cancellationToken) => inner.DeleteAsync(info, cancellationToken);
        public Task SaveEmbeddingSegmentAsync(string runId, long firstStep, Stream content, CancellationToken cancellationToken) => inner.SaveEmbeddingSegmentAsync(runId, firstStep, content, cancellationToken);
        public Task<IReadOnlyList<long>> ListEmbeddingSegmentsAsync(string runId, CancellationToken cancellationToken) => inner.ListEmbeddingSegmentsAsync(runId, cancellationToken);
        public Task<Stream?> OpenEmbeddingSegmentAsync(string runId, long firstStep, CancellationToken cancellationToken) => inner.OpenEmbeddingSegmentAsync(runId, firstStep, cancellationToken);
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
