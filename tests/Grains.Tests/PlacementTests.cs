using Orleans.TestingHost;
using VlmRm.Abstractions;

namespace VlmRm.Grains.Tests;

/// <summary>
/// Reward grain placement by advertised devices: with a GPU silo in the cluster every reward grain goes there;
/// without one, each goes to the silo its key asks for (the caller's), so frames stay where they were rendered.
/// </summary>
public sealed class PlacementTests
{
    private static readonly RewardSpec GroundTruth = new("ground_truth", null, [], [], 0);

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
        var grain = cluster.GrainFactory.GetGrain<IRewardGrain>(GroundTruth.GrainKey(requested.ToParsableString()));
        var response = await grain.LabelAsync(GroundTruth, new RewardRequest(2, [1f, 0f], [], 0, 0));
        Assert.Equal([1f, 0f], response.Rewards);
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
            siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Directory.CreateTempSubdirectory("vlmrm-placement-").FullName, Devices = name == GpuSilo ? "cuda" : "cpu" });
        }
    }

    private sealed class CpuOnly : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddVlmRmSilo(new VlmRmSiloOptions { DataDirectory = Directory.CreateTempSubdirectory("vlmrm-placement-").FullName, Devices = "cpu" });
    }
}
