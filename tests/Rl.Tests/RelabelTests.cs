using VlmRm.Clip.Export;
using VlmRm.Clip.Reward;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Rl.Tests;

/// <summary>Embeddings kept with transitions, and runs re-rewarded from them (vlmrm relabel).</summary>
public sealed class RelabelTests
{
    private const string Model = "Synthetic/relabel";
    private const string Goal = "pole vertically upright on top of the cart";
    private const string Baseline = "pole and cart";
    private static readonly SyntheticModels Models = new((Model, new ClipArchitecture()));

    private static RunConfig Config(long total, bool keep = true) => new()
    {
        Env = "CartPole", Algorithm = AlgorithmKind.Dqn, TotalTimesteps = total, NumEnvs = 2, EpisodeLength = 10, CheckpointInterval = 0, Seed = 5,
        Dqn = new DqnOptions { LearningStarts = 20, TrainFreq = 4, GradientSteps = 1, BatchSize = 8, NetArch = [16] },
        Reward = new RewardSection { Labeller = LabellerKind.Clip, Model = Model, Goal = [Goal], Baseline = [Baseline], BatchSize = 6, FrameWidth = 32, FrameHeight = 32, KeepEmbeddings = keep },
    };

    /// <summary>The CLIP labeller, keeping a copy of every frame it labels in order.</summary>
    private sealed class FrameKeepingLabeller(ClipLabeller inner, FrameSize frames) : IRewardLabeller
    {
        public List<byte> Frames { get; } = [];
        public string Name => inner.Name;
        FrameSize? IRewardLabeller.Frames => frames;

        public ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken)
        {
            foreach (var run in batch.Frames!.Runs(0, batch.Count)) Frames.AddRange(run.Bytes.ToArray());
            return inner.LabelAsync(batch, rewards, embeddings, cancellationToken);
        }
    }

    [Fact]
    public async Task Embeddings_and_success_flags_round_trip_through_a_checkpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-emb-").FullName);
        var (labeller, model) = RewardLabellers.Create(Config(40).Reward, Models.Options);
        using var _ = model;
        using var trainer = new Algorithm1Trainer(Config(40), labeller, "kept", store);
        await trainer.RunAsync(cancellationToken: ct);
        var saved = trainer.ReplayBuffer;
        Assert.Equal((40, 16), (saved.Count, saved.EmbeddingWidth));

        using var resumed = new Algorithm1Trainer(Config(80), labeller, "kept", store);
        Assert.True(await resumed.TryResumeAsync(ct));
        var restored = resumed.ReplayBuffer;
        Assert.Equal((saved.Count, saved.EmbeddingWidth), (restored.Count, restored.EmbeddingWidth));
        for (var i = 0; i < saved.Count; i++)
        {
            Assert.Equal(saved.Embedding(i).ToArray(), restored.Embedding(i).ToArray());
            Assert.Equal(saved.Success(i), restored.Success(i));
            Assert.Equal(saved.Reward(i), restored.Reward(i));
        }
        Assert.Contains(Enumerable.Range(0, saved.Count), i => saved.Embedding(i).ToArray().Any(v => v != Half.Zero));
    }

    [Fact]
    public async Task Relabelled_rewards_equal_a_fresh_labelling_of_the_same_frames()
    {
        var ct = TestContext.Current.CancellationToken;
        using var model = Models.Load(Model);
        var frames = new FrameSize(32, 32);
        var recorded = new FrameKeepingLabeller(new ClipLabeller(new ClipRewardModel(model, new RewardPrompts(Goal, Baseline), 0), frames), frames);
        using var trainer = new Algorithm1Trainer(Config(60), recorded);
        await trainer.RunAsync(cancellationToken: ct);

        var other = new ClipRewardModel(model, new RewardPrompts("a cart on a track with its pole fallen over", "a cart"), alpha: 0.5f);
        trainer.RelabelReplayBuffer(other.Reward);

        var count = trainer.ReplayBuffer.Count;
        Assert.Equal(60, count);
        Assert.Equal(count * frames.Bytes, recorded.Frames.Count);
        var fresh = new float[count];
        other.Label(recorded.Frames.ToArray(), frames.Height, frames.Width, fresh, new float[count * other.EmbedDim]);
        for (var i = 0; i < count; i++) Assert.Equal(fresh[i], trainer.ReplayBuffer.Reward(i), 2e-3f); // the stored embeddings are fp16
        Assert.True(fresh.Distinct().Count() > 1, "the frames should not all score the same");
    }

    [Fact]
    public async Task A_relabelled_run_trains_on_as_a_new_run_and_resumes_its_own_checkpoints()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await RecordedRuns.RecordAsync("source", Config(40), Models.Options, ct);

        var change = new RewardChange(["the pole is upright"], null, 0.5f);
        using (var relabelled = await RunRelabelling.StartAsync(store, "source", "source.new", change, additionalSteps: 30, Models.Options, cancellationToken: ct))
        {
            Assert.False(relabelled.Resumed);
            Assert.Equal((40, 70), (relabelled.Trainer.Timesteps, relabelled.Trainer.Config.TotalTimesteps));
            var reward = relabelled.Trainer.Config.Reward;
            Assert.Equal(["the pole is upright"], reward.Goal);
            Assert.Equal([Baseline], reward.Baseline);
            Assert.Equal(0.5f, reward.Alpha);
            await relabelled.Trainer.RunAsync(cancellationToken: ct);
            Assert.Equal(70, relabelled.Trainer.Timesteps);
        }
        Assert.Equal(70, (await store.ListAsync("source.new", ct)).Max(c => c.Timesteps));
        Assert.Equal(40, (await store.ListAsync("source", ct)).Max(c => c.Timesteps)); // the source run is left as it was

        // Asked again (an interrupted relabel), the new run continues from its own newest checkpoint.
        using var again = await RunRelabelling.StartAsync(store, "source", "source.new", change, additionalSteps: 30, Models.Options, cancellationToken: ct);
        Assert.True(again.Resumed);
        Assert.Equal(70, again.Trainer.Timesteps);
    }

    [Fact]
    public async Task A_run_recorded_without_embeddings_is_refused_with_how_to_record_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await RecordedRuns.RecordAsync("plain", Config(20, keep: false), Models.Options, ct);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => RunRelabelling.StartAsync(store, "plain", "plain.new", new RewardChange(null, null, 1), null, Models.Options, cancellationToken: ct));
        Assert.Contains("Run plain was recorded without image embeddings", error.Message);
        Assert.Contains("setting reward.keep_embeddings: true", error.Message);
        var missing = await Assert.ThrowsAsync<FileNotFoundException>(() => RunRelabelling.StartAsync(store, "nope", "nope.new", new RewardChange(null, null, 1), null, Models.Options, cancellationToken: ct));
        Assert.Contains("Run 'nope' has no checkpoint to re-reward from", missing.Message);
    }

    [Fact]
    public async Task Embeddings_of_another_width_are_refused_by_the_models_name()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await RecordedRuns.RecordAsync("narrow", Config(20), Models.Options, ct);
        // The same model name, but a folder whose model embeds to 32 values: not the model that made the embeddings.
        var wider = new SyntheticModels((Model, new ClipArchitecture { EmbedDim = 32 }));
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => RunRelabelling.StartAsync(store, "narrow", "narrow.new", new RewardChange(null, null, 1), null, wider.Options, cancellationToken: ct));
        Assert.Contains($"Model {Model} embeds to 32 values, but run narrow's stored embeddings have 16", error.Message);
    }

    [Fact]
    public async Task A_reward_schedule_re_rewards_the_replay_buffer_at_its_step_and_labels_with_the_new_reward_after_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new FileCheckpointStore(Directory.CreateTempSubdirectory("vlmrm-schedule-").FullName);
        var config = Config(60) with { CheckpointInterval = 40 };
        config = config with { Reward = config.Reward with { Schedule = [new RewardChangeAt { At = 30, Goal = ["a cart with its pole fallen over"], Alpha = 1 }] } };
        RunConfigLoader.Validate(config, "schedule.yaml");
        var (labeller, model) = RewardLabellers.Create(config.Reward, Models.Options);
        using (model)
        {
            using var trainer = new Algorithm1Trainer(config, labeller, "scheduled", store);
            await trainer.RunAsync(cancellationToken: ct);
            var after = ((ClipLabeller)labeller).Reward;
            Assert.Equal(1f, after.Alpha);
            // Every transition, before the change (re-rewarded) and after it (labelled fresh), has the new reward.
            var buffer = trainer.ReplayBuffer;
            Assert.Equal(60, buffer.Count);
            var expected = new float[buffer.Count];
            for (var i = 0; i < buffer.Count; i++) after.ScoreRows(buffer.Embedding(i), expected.AsSpan(i, 1));
            for (var i = 0; i < buffer.Count; i++) Assert.Equal(expected[i], buffer.Reward(i), 2e-3f);
        }

        // Resumed from its checkpoint at step 40, past the change: the labeller takes the reward in force there.
        var (fresh, freshModel) = RewardLabellers.Create(config.Reward, Models.Options);
        using (freshModel)
        {
            Assert.Equal(0f, ((ClipLabeller)fresh).Reward.Alpha);
            using var resumed = new Algorithm1Trainer(config with { TotalTimesteps = 80 }, fresh, "scheduled", store);
            using (var checkpoint = await store.LoadAsync((await store.ListAsync("scheduled", ct)).Single(c => c.Timesteps == 40), ct)) await resumed.RestoreCheckpointAsync(checkpoint!.Content, ct);
            Assert.Equal(1f, ((ClipLabeller)fresh).Reward.Alpha);
        }
    }

    [Theory]
    [InlineData(false, 30, "reward.schedule: a reward that changes during the run re-rewards its replay buffer from stored embeddings: it needs labeller: clip and keep_embeddings: true")]
    [InlineData(true, 0, "reward.schedule[0].at: 0: steps must increase, after 0 and before total_timesteps (60)")]
    [InlineData(true, 60, "reward.schedule[0].at: 60: steps must increase")]
    public void A_reward_schedule_is_checked_before_the_run(bool keep, long at, string expected)
    {
        var config = Config(60, keep);
        config = config with { Reward = config.Reward with { Schedule = [new RewardChangeAt { At = at, Alpha = 1 }] } };
        var error = Assert.Throws<InvalidDataException>(() => RunConfigLoader.Validate(config, "run.yaml"));
        Assert.Contains("run.yaml: " + expected, error.Message);
    }

    [Fact]
    public async Task The_embedding_log_holds_every_labelled_frame_of_the_run_past_the_replay_buffer_and_across_a_resume()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = Directory.CreateTempSubdirectory("vlmrm-log-").FullName;
        var store = new FileCheckpointStore(root);
        // A replay buffer of 30 transitions: the log keeps what the buffer lets go.
        var config = Config(60) with { CheckpointInterval = 20, Dqn = Config(60).Dqn! with { BufferSize = 30 } };
        config = config with { Reward = config.Reward with { EmbeddingLog = true } };
        RunConfigLoader.Validate(config, "log.yaml");
        var (labeller, model) = RewardLabellers.Create(config.Reward, Models.Options);
        using (model)
        {
            using (var first = new Algorithm1Trainer(config, labeller, "logged", store)) await first.RunAsync(cancellationToken: ct);
            using var resumed = new Algorithm1Trainer(config with { TotalTimesteps = 100 }, labeller, "logged", store);
            Assert.True(await resumed.TryResumeAsync(ct));
            await resumed.RunAsync(cancellationToken: ct);

            var log = await EmbeddingLog.ReadAsync(store, "logged", ct);
            Assert.Equal([0L, 20, 40, 60, 80], log.Select(s => s.FirstStep));
            Assert.Equal([20L, 40, 60, 80, 100], log.Select(s => s.LastStep));
            Assert.Equal(100, log.Sum(s => s.Count));
            // Its last 30 rows are the replay buffer's (which holds the newest 30 in ring order).
            var rows = log.SelectMany(s => s.Embeddings).ToArray();
            var buffer = resumed.ReplayBuffer;
            var newest = Enumerable.Range(70, 30).Select(k => rows.AsSpan(k * 16, 16).ToArray()).ToHashSet(new RowComparer());
            Assert.All(Enumerable.Range(0, buffer.Count), i => Assert.Contains(buffer.Embedding(i).ToArray(), newest));
        }

        var segment = Path.Combine(root, "logged", EmbeddingLog.Folder, EmbeddingLog.SegmentName(40));
        var bytes = File.ReadAllBytes(segment);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(segment, bytes);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => EmbeddingLog.ReadAsync(store, "logged", ct));
        Assert.Contains("Embedding log segment segment-000000000040.emb of run logged is damaged", error.Message);
    }

    private sealed class RowComparer : IEqualityComparer<Half[]>
    {
        public bool Equals(Half[]? x, Half[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(Half[] row) => row.Length == 0 ? 0 : row[0].GetHashCode();
    }

    [Fact]
    public void Keeping_embeddings_needs_a_clip_reward()
    {
        var config = Config(20) with { Reward = new RewardSection { KeepEmbeddings = true } };
        var error = Assert.Throws<InvalidDataException>(() => RunConfigLoader.Validate(config, "run.yaml"));
        Assert.Contains("run.yaml: reward.keep_embeddings: only a CLIP reward has image embeddings to keep", error.Message);
    }
}
