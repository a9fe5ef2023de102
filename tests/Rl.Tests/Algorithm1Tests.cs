using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Clip.Synthetic;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Buffers;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Logging;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Rl.Tests;

/// <summary>Algorithm 1's flow: B fills, is labelled in one call, moves to D; frames only when the labeller asks.</summary>
public class Algorithm1Tests
{
    private sealed class RecordingLabeller(FrameSize? frames, Func<LabelBatch, int, float>? reward = null) : IRewardLabeller
    {
        public List<int> BatchSizes { get; } = [];
        public List<byte[]> Frames { get; } = [];
        public string Name => "recording";
        FrameSize? IRewardLabeller.Frames => frames;

        public ValueTask LabelAsync(LabelBatch batch, Memory<float> rewards, EmbeddingBatch? embeddings, CancellationToken cancellationToken)
        {
            BatchSizes.Add(batch.Count);
            if (frames is not null) Frames.Add([.. batch.Frames!.Runs(0, batch.Count).SelectMany(run => run.Bytes.ToArray())]);
            for (var i = 0; i < batch.Count; i++) rewards.Span[i] = reward?.Invoke(batch, i) ?? batch.EnvironmentRewards.Span[i];
            return ValueTask.CompletedTask;
        }
    }

    private static RunConfig Config(int numEnvs, int b) => new()
    {
        Env = "CartPole", Algorithm = AlgorithmKind.Dqn, TotalTimesteps = 100, NumEnvs = numEnvs, EpisodeLength = 10,
        Dqn = new DqnOptions { LearningStarts = 1000, NetArch = [8] },
        Reward = new RewardSection { BatchSize = b },
    };

    [Fact]
    public async Task Transitions_are_labelled_in_batches_of_b_then_the_rest_at_the_end()
    {
        var labeller = new RecordingLabeller(null);
        using var trainer = new Algorithm1Trainer(Config(numEnvs: 4, b: 30), labeller);
        await trainer.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        // B rounds up to whole vectorized steps (32); 100 steps = 3 full batches + 4 flushed at the end.
        Assert.Equal([32, 32, 32, 4], labeller.BatchSizes);
        Assert.Empty(labeller.Frames);
        Assert.Equal(8, trainer.Progress.Episodes); // 25 steps per copy: two 10-step episodes each
    }

    [Fact]
    public async Task Frames_are_rendered_for_labellers_that_ask_and_show_the_reached_state()
    {
        var labeller = new RecordingLabeller(new FrameSize(32, 24));
        using var trainer = new Algorithm1Trainer(Config(numEnvs: 2, b: 4) with { TotalTimesteps = 8 }, labeller);
        await trainer.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([4, 4], labeller.BatchSizes);
        Assert.All(labeller.Frames, f => Assert.Equal(4 * 32 * 24 * 3, f.Length));
        Assert.Contains(labeller.Frames[0], b => b < 100); // something was drawn
    }

    [Fact]
    public async Task A_non_finite_reward_is_a_clear_error_and_stores_nothing_of_its_batch()
    {
        var labeller = new RecordingLabeller(null, (_, i) => i == 2 ? float.NaN : 1f);
        using var trainer = new Algorithm1Trainer(Config(numEnvs: 1, b: 5), labeller);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => trainer.RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("returned NaN for transition 2 of 5", error.Message);
        Assert.Equal(0, trainer.LabelledTransitions);
    }

    [Fact]
    public async Task Clip_labeller_scores_rendered_frames_through_algorithm_1()
    {
        using var model = new SyntheticModels(("Synthetic/rl", new ClipArchitecture())).Load("Synthetic/rl");
        var rewardModel = new ClipRewardModel(model, new RewardPrompts("pole vertically upright on top of the cart", "pole and cart"), alpha: 0.5f);
        var labeller = new ClipLabeller(rewardModel, new FrameSize(32, 32));
        // 2 copies × 10 steps: each copy ends one 10-step episode, so the labelled return is a CLIP return.
        var config = Config(numEnvs: 2, b: 6) with { TotalTimesteps = 20, Reward = new RewardSection { Labeller = LabellerKind.Clip, BatchSize = 6 } };
        using var trainer = new Algorithm1Trainer(config, labeller);
        await trainer.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(20, trainer.Timesteps);
        Assert.Equal(20, trainer.LabelledTransitions);
        Assert.Equal(2, trainer.Progress.Episodes);
        var labelledReturn = trainer.Progress.MeanLabelledReturn;
        Assert.True(double.IsFinite(labelledReturn) && labelledReturn != 0, $"CLIP return {labelledReturn}");
        Assert.InRange(labelledReturn, -10, 10); // ten rewards in [−1, 1] (Definition 1 with unit embeddings)
    }

    [Fact]
    public void Replay_buffer_for_a_million_humanoid_transitions_fits_in_a_few_gigabytes()
    {
        var bytes = ReplayBuffer.BytesFor(1_000_000, observationSize: 376, actionSize: 17);
        Assert.Equal(3_084_000_000, bytes); // (2·376 + 17 + 2) floats per transition
        var buffer = new ReplayBuffer(4, 2, 1);
        for (var i = 0; i < 6; i++) buffer.Add([i, i], [i], i, [i + 1, i + 1], false);
        Assert.Equal(4, buffer.Count); // a ring: the oldest two were overwritten
        using var snapshot = new MemoryStream();
        buffer.Save(new BinaryWriter(snapshot));
        snapshot.Position = 0;
        var copy = new ReplayBuffer(4, 2, 1);
        copy.Load(new BinaryReader(snapshot));
        Assert.Equal(4, copy.Count);
        Assert.Throws<ArgumentException>(() => buffer.Add([0, 0], [0], float.NaN, [0, 0], false));
    }

    [Fact]
    public void TensorBoard_records_are_framed_with_masked_crc32c()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8)); // the CRC-32C check value
        var folder = Directory.CreateTempSubdirectory("vlmrm-tb-").FullName;
        string path;
        using (var writer = new TensorBoardWriter(folder))
        {
            writer.Scalar("rollout/ep_rew_mean", 1.5, 42);
            writer.Scalar("skipped", double.NaN, 43);
            path = writer.FilePath;
        }
        var bytes = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var length = (int)BitConverter.ToUInt64(bytes, offset);
            Assert.Equal(Crc32C.Masked(bytes.AsSpan(offset, 8)), BitConverter.ToUInt32(bytes, offset + 8));
            var data = bytes.AsSpan(offset + 12, length).ToArray();
            Assert.Equal(Crc32C.Masked(data), BitConverter.ToUInt32(bytes, offset + 12 + length));
            records.Add(data);
            offset += 16 + length;
        }
        Assert.Equal(2, records.Count);
        Assert.True(records[0].AsSpan().IndexOf("brain.Event:2"u8) > 0);
        // Decode the scalar event with Google.Protobuf's wire reader, independently of the writer.
        var input = new Google.Protobuf.CodedInputStream(records[1]);
        (double wall, long step, string tag, float value) = (0, 0, "", 0);
        for (var fieldTag = input.ReadTag(); fieldTag != 0; fieldTag = input.ReadTag())
        {
            switch (fieldTag >> 3)
            {
                case 1: wall = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 5:
                    var summary = new Google.Protobuf.CodedInputStream(input.ReadBytes().ToByteArray());
                    summary.ReadTag();
                    var v = new Google.Protobuf.CodedInputStream(summary.ReadBytes().ToByteArray());
                    for (var t = v.ReadTag(); t != 0; t = v.ReadTag())
                    {
                        if (t >> 3 == 1) tag = v.ReadString();
                        else value = v.ReadFloat();
                    }
                    break;
                default: input.SkipLastField(); break;
            }
        }
        Assert.True(wall > 1.7e9);
        Assert.Equal((42L, "rollout/ep_rew_mean", 1.5f), (step, tag, value));
    }
}
