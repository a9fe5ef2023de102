using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using VlmRm.Clip.Models;
using VlmRm.Rl.Checkpoints;

namespace VlmRm.Grains;

/// <summary>How a silo is set up (configuration section "VlmRm").</summary>
public sealed class VlmRmSiloOptions
{
    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    public string? RedisConnectionString { get; set; }

    /// <summary>Folder for grain state (embedded) and checkpoints (file store).</summary>
    public string DataDirectory { get; set; } = Path.Combine("runs", "cluster");

    public CheckpointStoreKind CheckpointStore { get; set; } = CheckpointStoreKind.File;

    public string? BlobConnectionString { get; set; }
    public string? BlobServiceUri { get; set; }
    public string BlobContainer { get; set; } = "checkpoints";

    /// <summary>
    /// Devices this silo advertises to the cluster ("cuda" or "cpu"); reward grains go to "cuda" silos when
    /// there are any. Default: "cuda" when ONNX Runtime offers its CUDA provider and CLIP may use it.
    /// </summary>
    public string? Devices { get; set; }

    /// <summary>
    /// How often a sweep with unfinished runs is woken by its reminder (persisted with the grain state: Redis in a
    /// cluster), so that a sweep whose silo died resumes its runs with no client attached.
    /// </summary>
    public TimeSpan SweepWatchPeriod { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>How silos find each other (VlmRm:Clustering).</summary>
public enum ClusteringKind
{
    /// <summary>One machine: the embedded cluster or a standalone silo on loopback.</summary>
    Localhost,

    /// <summary>Several machines: membership, grain state and reminders in Redis.</summary>
    Redis,
}

/// <summary>Where learners write checkpoints (VlmRm:CheckpointStore).</summary>
public enum CheckpointStoreKind
{
    /// <summary>The silo's data folder.</summary>
    File,

    /// <summary>Azure Blob Storage (or Azurite).</summary>
    Blob,
}

public static class SiloBuilderExtensions
{
    /// <summary>Name of the grain storage provider the grains use.</summary>
    public const string StorageName = "vlmrm";

    /// <summary>Grain storage, checkpoint store, CLIP model cache and reward batching for a VlmRm silo.</summary>
    public static ISiloBuilder AddVlmRmSilo(this ISiloBuilder silo, VlmRmSiloOptions options, ClipRuntimeOptions? clip = null)
    {
        if (clip?.ExecutionProvider == ExecutionProviderChoice.Cuda && !OnnxClipModel.CudaExecutionProviderAvailable())
        {
            throw new ArgumentException(OnnxClipModel.CudaUnavailable("this ONNX Runtime build has no CUDA execution provider"));
        }
        Directory.CreateDirectory(options.DataDirectory);
        if (options.Clustering == ClusteringKind.Redis)
        {
            var redis = options.RedisConnectionString ?? throw new ArgumentException("Redis clustering needs VlmRm:RedisConnectionString.");
            silo.UseRedisClustering(redis);
            silo.AddRedisGrainStorage(StorageName, o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
            silo.UseRedisReminderService(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
        }
        else
        {
            var stateDirectory = Path.Combine(options.DataDirectory, "state");
            Directory.CreateDirectory(stateDirectory);
            silo.Services.AddGrainStorage(StorageName, (sp, _) => new FileGrainStorage(stateDirectory, sp.GetRequiredService<Serializer>()));
            // One machine: the reminders live as long as the silo, which is as long as the sweep's own timer.
            silo.UseInMemoryReminderService();
        }
        if (options.SweepWatchPeriod <= TimeSpan.Zero) throw new ArgumentException($"VlmRm:SweepWatchPeriod must be positive, not {options.SweepWatchPeriod}.");
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromTicks(Math.Min(o.MinimumReminderPeriod.Ticks, options.SweepWatchPeriod.Ticks)));
        // Built now, not on a learner's first checkpoint: a store that cannot be configured stops the silo at start.
        silo.Services.AddSingleton<ICheckpointStore>(options.CheckpointStore switch
        {
            CheckpointStoreKind.Blob => BlobCheckpointStore.Create(options.BlobConnectionString, options.BlobServiceUri, options.BlobContainer),
            CheckpointStoreKind.File => new FileCheckpointStore(Path.Combine(options.DataDirectory, "checkpoints")),
            var other => throw new ArgumentException($"VlmRm:CheckpointStore {other} is not file or blob."),
        });
        silo.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(clip ?? new ClipRuntimeOptions()));
        silo.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        silo.Services.AddSingleton<ClipModelCache>();
        silo.Services.AddSingleton<RewardBatcher>();
        silo.Services.AddOptions<RewardBatchingOptions>().BindConfiguration("RewardBatching")
            .Validate(o => o.MaxBatchFrames > 0 && o.MaxWait >= TimeSpan.Zero && o.MaxMessageBytes >= 1 << 20,
                "RewardBatching: MaxBatchFrames must be positive, MaxWait not negative and MaxMessageBytes at least 1 MiB (1048576).")
            .ValidateOnStart();
        silo.UseSiloMetadata(new Dictionary<string, string> { [RewardSiloPlacementDirector.DevicesKey] = options.Devices ?? DetectDevices(clip) });
        silo.AddPlacementDirector<RewardSiloPlacement, RewardSiloPlacementDirector>();
        VlmRmMetrics.EnsureCreated();
        return silo;
    }

    private static string DetectDevices(ClipRuntimeOptions? clip) =>
        clip?.ExecutionProvider != ExecutionProviderChoice.Cpu && OnnxClipModel.CudaExecutionProviderAvailable() ? "cuda" : "cpu";
}
