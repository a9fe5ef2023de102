using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Abstractions;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Reward;
using VlmRm.Rl;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// The paper's Humanoid labelling batch (humanoid-sac: B = 3200 frames of 480² from 32 environments, 2.2 GB) sent
/// from a CPU silo process to the reward silo process that advertises a GPU, through the real silo-to-silo
/// connection of two processes clustered by redis-server: it arrives in 64 MiB messages, the reward silo never
/// holds it whole, and the rewards at both ends of the batch are those of the same frames labelled here.
/// </summary>
public sealed partial class FramesAcrossProcessesTests : IDisposable
{
    private const string Model = "Synthetic-ViT/frames-processes";
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task A_paper_sized_batch_crosses_from_a_cpu_silo_process_to_the_reward_silo_process()
    {
        var ct = TestContext.Current.CancellationToken;
        var models = new SyntheticModels((Model, new ClipArchitecture()));
        string[] clip = [$"--Clip:ModelsDirectory={models.Options.ModelsDirectory}", "--Clip:ExecutionProvider=Cpu"];
        var (redis, data, cpuSilos) = LocalServices.StartRedisCluster(_processes, 1, [.. clip, "--VlmRm:Devices=cpu"]);
        // The reward silo runs under a 1 GiB GC heap limit, as a container's memory limit sets one: it labels
        // the 2.2 GB batch message by message or fails for want of memory.
        var gpuSilo = LocalServices.StartRedisSilo(redis, data, [.. clip, "--VlmRm:Devices=cuda"], new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" });
        _processes.Add(gpuSilo.Process);
        // The client enters through the CPU silo, where the environment grain it creates is placed.
        using var host = await LocalServices.RedisClientAsync(redis, ct, cpuSilos[0].GatewayPort);
        var client = host.Services.GetRequiredService<IClusterClient>();
        Assert.Equal(2, await LocalServices.ActiveSilosAsync(client, 2));

        var humanoid = RunConfigLoader.LoadFile("humanoid-sac");
        var config = new RunConfig { Env = "CartPole", NumEnvs = humanoid.NumEnvs, Seed = 5, EpisodeLength = 40, Reward = humanoid.Reward with { Model = Model } };
        var frame = config.Reward.LabellerFrames()!.Value;
        var batch = config.Reward.BatchSize;
        Assert.True((long)batch * frame.Bytes > int.MaxValue, "the paper's batch should be over 2 GiB");

        bool OnGpuSilo(string silo) => silo.Contains($":{gpuSilo.SiloPort}:", StringComparison.Ordinal);
        var environment = client.GetGrain<IEnvironmentGrain>("paper-batch");
        var description = await environment.CreateAsync(new EnvironmentRequest("paper-batch", RunConfigLoader.ToJson(config)));
        var actions = Enumerable.Range(0, config.NumEnvs).Select(i => (float)(i % 2)).ToArray();
        var steps = batch / config.NumEnvs;
        var environmentRewards = new List<float>(batch);
        for (var step = 0; step < steps; step++) environmentRewards.AddRange((await environment.StepAsync(new EnvironmentActions(actions))).Rewards);

        var clock = Stopwatch.StartNew();
        await environment.StartLabellingAsync([.. environmentRewards]);
        var labels = await environment.CollectLabelsAsync();
        clock.Stop();

        Assert.False(OnGpuSilo(description.Silo));
        Assert.True(OnGpuSilo(labels.LabelledOn), $"labelled on {labels.LabelledOn}");
        Assert.Equal(batch, labels.Rewards.Length);
        Assert.All(labels.Rewards, r => Assert.True(float.IsFinite(r)));
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{cpuSilos[0].DashboardPort}/metrics"), ct);
        Assert.Equal((long)batch * frame.Bytes, Counter(metrics, "vlmrm_reward_frame_bytes_across_silos"));
        var rewardSiloPeak = PeakResidentBytes(gpuSilo.Process);
        var senderPeak = PeakResidentBytes(_processes.Single(p => p.Id != gpuSilo.Process.Id && p.ProcessName == "dotnet"));
        File.WriteAllText(Path.Combine(TestPaths.ArtifactsDirectory("grains"), "frames-across-processes.txt"),
            $"{(long)batch * frame.Bytes / 1e9:F2} GB ({batch} frames of {frame.Width}x{frame.Height}) labelled across processes in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"peak RSS: sending silo {senderPeak / 1e9:F2} GB, reward silo {rewardSiloPeak / 1e9:F2} GB (GC heap limit 1 GiB)\n");
        Assert.True(rewardSiloPeak < (long)batch * frame.Bytes, $"the reward silo peaked at {rewardSiloPeak / 1e9:F2} GB: it held the batch, not its 64 MiB messages");

        // The first and last ten vectorized steps rendered and labelled in this process: each end of the batch came back in place.
        const int endSteps = 10;
        var endFrames = endSteps * config.NumEnvs;
        var stepBytes = config.NumEnvs * frame.Bytes;
        var here = new byte[2L * endFrames * frame.Bytes];
        Span<byte> Frames(int step) =>
            step < endSteps ? here.AsSpan(step * stepBytes, stepBytes)
            : step >= steps - endSteps ? here.AsSpan((step - steps + 2 * endSteps) * stepBytes, stepBytes)
            : Span<byte>.Empty;
        using (var env = RunFactory.MakeEnvironment(config, frame))
        {
            for (var step = 0; step < steps; step++) env.Step(actions, Frames(step));
        }
        using var model = models.Load(Model);
        var reward = new ClipRewardModel(model, new RewardPrompts(config.Reward.Goal, config.Reward.Baseline), config.Reward.Alpha);
        var expected = new float[2 * endFrames];
        reward.Label(here, frame.Width, frame.Height, expected, new float[expected.Length * reward.EmbedDim]);
        float[] received = [.. labels.Rewards[..endFrames], .. labels.Rewards[^endFrames..]];
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], received[i], 1e-5f);
        Assert.True(expected.Distinct().Count() > 10, "the frames should not all score alike");
    }

    private static long Counter(string prometheus, string name)
    {
        var match = Regex.Match(prometheus, $@"^{name}\S*\s+(\S+)\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{name} is not in the silo's /metrics");
        return (long)double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The process's peak resident memory (VmHWM).</summary>
    private static long PeakResidentBytes(Process process)
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(PeakKilobytes().Match(line).Value, CultureInfo.InvariantCulture) * 1024;
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex PeakKilobytes();

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
