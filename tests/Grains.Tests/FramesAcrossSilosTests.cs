using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using VlmRm.Abstractions;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Rl;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// A CPU silo's labelling batch crossing to the GPU silo's reward grain over the silos' real connection, in
/// messages of at most RewardBatching:MaxMessageBytes: a batch larger than Orleans' 100 MB body limit arrives
/// whole, its model calls hold at most RewardBatching:MaxBatchFrames frames even where one message holds more, and
/// its rewards are those of the same frames labelled in this process.
/// </summary>
[Collection(ProcessWideMeters.Name)]
public sealed class FramesAcrossSilosTests
{
    private const string Model = "Synthetic-ViT/frames";
    private static ClipRuntimeOptions? _clip;

    [Fact]
    public async Task A_batch_over_the_message_limit_crosses_silos_in_chunks_and_keeps_every_reward()
    {
        var ct = TestContext.Current.CancellationToken;
        _clip = new SyntheticModels((Model, new ClipArchitecture())).Options;
        await using var cluster = new TestClusterBuilder(2).AddSiloBuilderConfigurator<CpuAndGpuSilo>().Build();
        await cluster.DeployAsync(ct);
        using var metrics = new MeterTotals(instrument => instrument.Meter.Name == VlmRmMetrics.MeterName);

        // 200 frames of 480 × 480 × 3 bytes = 138 MB: over Orleans' 100 MB limit, so three 64 MiB messages.
        var config = new RunConfig
        {
            Env = "CartPole", NumEnvs = 4, Seed = 3, EpisodeLength = 30,
            Reward = new RewardSection { Labeller = LabellerKind.Clip, Model = Model, Goal = ["pole vertically upright on top of the cart"], Baseline = ["pole and cart"], Alpha = 0.5f, BatchSize = 200, FrameWidth = 480, FrameHeight = 480 },
        };
        var gpu = cluster.Silos.Single(s => s.Name == CpuAndGpuSilo.GpuSilo).SiloAddress.ToString();
        var (environment, description) = await EnvironmentOffSilo(cluster.GrainFactory, config, silo => silo == gpu);
        var actions = Enumerable.Range(0, config.NumEnvs).Select(i => (float)(i % 2)).ToArray();
        var environmentRewards = new List<float>();
        for (var step = 0; step < 50; step++) environmentRewards.AddRange((await environment.StepAsync(new EnvironmentActions(actions))).Rewards);

        await environment.StartLabellingAsync([.. environmentRewards]);
        var labels = await environment.CollectLabelsAsync();

        Assert.Equal(gpu, labels.LabelledOn);
        Assert.NotEqual(description.Silo, labels.LabelledOn);
        Assert.Equal(200L * 480 * 480 * 3, metrics.Total("vlmrm.reward.frame_bytes_across_silos"));
        Assert.Equal(200, metrics.Total("vlmrm.clip.batch_size"));
        // Each 64 MiB message holds 96 frames of 480²; the reward silo's calls take at most 40 of them.
        Assert.Equal(CpuAndGpuSilo.MaxBatchFrames, metrics.Largest("vlmrm.clip.batch_size"));

        // The same frames, rendered and labelled here.
        var frameSize = config.Reward.LabellerFrames()!.Value;
        using var env = RunFactory.MakeEnvironment(config, frameSize);
        var frames = new byte[200L * frameSize.Bytes];
        for (var step = 0; step < 50; step++) env.Step(actions, frames.AsSpan(step * config.NumEnvs * frameSize.Bytes, config.NumEnvs * frameSize.Bytes));
        using var model = OnnxClipModel.Load(Model, _clip);
        var reward = new ClipRewardModel(model, new RewardPrompts(config.Reward.Goal, config.Reward.Baseline), config.Reward.Alpha);
        var expected = new float[200];
        reward.Label(frames, 480, 480, expected, new float[200 * reward.EmbedDim]);
        Assert.Equal(expected.Length, labels.Rewards.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], labels.Rewards[i], 1e-5f);
        Assert.True(expected.Distinct().Count() > 10, "the frames should not all score alike");
    }

    /// <summary>
    /// Environment grains are placed on their caller's silo, so a client's call lands on any silo: a grain of
    /// <paramref name="config"/> created on a silo that <paramref name="avoid"/> does not name.
    /// </summary>
    private static async Task<(IEnvironmentGrain Grain, EnvironmentDescription Description)> EnvironmentOffSilo(IGrainFactory grains, RunConfig config, Func<string, bool> avoid)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var key = $"frames-{Guid.NewGuid():N}";
            var grain = grains.GetGrain<IEnvironmentGrain>(key);
            var description = await grain.CreateAsync(new EnvironmentRequest(key, RunConfigLoader.ToJson(config)));
            if (!avoid(description.Silo)) return (grain, description);
        }
        throw new InvalidOperationException("No environment grain landed off the reward silo in 50 tries.");
    }

    private sealed class CpuAndGpuSilo : ISiloConfigurator
    {
        public const string GpuSilo = "Secondary_1";
        public const int MaxBatchFrames = 40;

        public void Configure(ISiloBuilder siloBuilder)
        {
            var name = siloBuilder.Configuration["Orleans:Name"] ?? throw new InvalidOperationException("The test cluster gave this silo no name.");
            siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Directory.CreateTempSubdirectory("vlmrm-frames-").FullName, Devices = name == GpuSilo ? "cuda" : "cpu" }, _clip);
            siloBuilder.Services.Configure<RewardBatchingOptions>(o => o.MaxBatchFrames = MaxBatchFrames);
        }
    }
}
