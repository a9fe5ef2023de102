using Orleans.TestingHost;
using VlmRm.Abstractions;
using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Synthetic;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// Reward grain placement by advertised devices: with a GPU silo in the cluster every reward grain goes there;
/// without one, each goes to the silo its key asks for (the caller's), so frames stay where they were rendered.
/// </summary>
public sealed class PlacementTests
{
    private const string Model = "Synthetic-ViT/placement";
    private static readonly RewardSpec Reward = new(Model, ["pole upright"], ["pole"], 0.5f);
    private static readonly ClipRuntimeOptions Clip = new SyntheticModels((Model, new ClipArchitecture())).Options;

    [Fact]
    public async Task Reward_grains_go_to_the_gpu_silo_when_the_cluster_has_one()
    {
        await using var cluster = await Start<MixedDevices>();
        var gpu = cluster.Silos.Single(s => s.Name == MixedDevices.GpuSilo).SiloAddress;
        foreach (var silo in cluster.Silos)
        {
            var where = await LabelledOn(cluster, silo.SiloAddress);
            Assert.Equal(gpu.ToString(), where);
        }
    }

    [Fact]
    public async Task Without_gpu_silos_a_reward_grain_runs_on_the_silo_its_key_names()
    {
        await using var cluster = await Start<CpuOnly>();
        foreach (var silo in cluster.Silos)
        {
            Assert.Equal(silo.SiloAddress.ToString(), await LabelledOn(cluster, silo.SiloAddress));
        }
    }

    private static async Task<string> LabelledOn(TestCluster cluster, SiloAddress requested)
    {
        var grain = cluster.GrainFactory.GetGrain<IRewardGrain>(Reward.GrainKey(requested.ToParsableString()));
        var response = await grain.LabelAsync(Reward, new RewardRequest(2, [1f, 0f], new byte[2 * 8 * 8 * 3], 8, 8));
        Assert.Equal(2, response.Rewards.Length);
        Assert.All(response.Rewards, r => Assert.True(float.IsFinite(r)));
        return response.Silo;
    }

    private static async Task<TestCluster> Start<TConfigurator>() where TConfigurator : ISiloConfigurator, new()
    {
        var cluster = new TestClusterBuilder(2).AddSiloBuilderConfigurator<TConfigurator>().Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class MixedDevices : ISiloConfigurator
    {
        public const string GpuSilo = "Secondary_1";

        public void Configure(ISiloBuilder siloBuilder)
        {
            var name = siloBuilder.Configuration["Orleans:Name"] ?? throw new InvalidOperationException("The test cluster gave this silo no name.");
            siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Directory.CreateTempSubdirectory("vlmrm-placement-").FullName, Devices = name == GpuSilo ? "cuda" : "cpu" }, Clip);
        }
    }

    private sealed class CpuOnly : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Directory.CreateTempSubdirectory("vlmrm-placement-").FullName, Devices = "cpu" }, Clip);
    }
}
