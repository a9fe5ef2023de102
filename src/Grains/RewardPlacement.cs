using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;
using VlmRm.Abstractions;

namespace VlmRm.Grains;

/// <summary>Places a reward grain on the silo its key asks for when that silo may host reward grains, else on a GPU silo.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class RewardSiloPlacement : PlacementStrategy
{
    internal static RewardSiloPlacement Instance { get; } = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RewardSiloPlacementAttribute() : PlacementAttribute(RewardSiloPlacement.Instance);

/// <summary>
/// Every silo advertises its devices in its silo metadata (<see cref="DevicesKey"/>: "cuda" or "cpu").
/// Reward grains may live on the silos with a GPU, or on every silo when none has one; among those the
/// silo named in the grain's key wins (the caller's own, so frames stay on it), else one is chosen by the
/// key's hash, so one spec's callers from a CPU silo share one GPU silo's batches.
/// </summary>
public sealed class RewardSiloPlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    public const string DevicesKey = "vlmrm.devices";

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0) throw new OrleansException($"No silo can host {target.GrainIdentity}.");
        var gpu = compatible.Where(HasGpu).ToArray();
        var hosts = gpu.Length > 0 ? gpu : compatible;
        var key = target.GrainIdentity.Key.ToString()!;
        var requested = RewardSpec.RequestedSilo(key);
        var chosen = hosts.FirstOrDefault(s => s.ToParsableString() == requested)
            ?? hosts.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ElementAt((int)(StableHash(key) % (uint)hosts.Length));
        return Task.FromResult(chosen);
    }

    private bool HasGpu(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(DevicesKey, out var devices) && devices.Split(',').Contains("cuda");

    // string.GetHashCode is randomized per process; silos must agree.
    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return hash;
    }
}
