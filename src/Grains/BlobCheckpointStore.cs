using System.Text.Json;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using VlmRm.Rl.Checkpoints;

namespace VlmRm.Grains;

/// <summary>
/// Checkpoints in Azure Blob Storage (Azurite locally): the data blob is uploaded under its own new
/// name (in blocks, streamed from the trainer's spool file), read back as a stream and checked for size and
/// SHA-256, then its sidecar is written and the run's latest.json (and best.json) blob is pointed at it.
/// Readers download to a temporary file, verify again and read from there, so a half-written or damaged
/// checkpoint is never loaded and a 3 GB one is never in memory.
/// </summary>
public sealed class BlobCheckpointStore(BlobContainerClient container) : ICheckpointStore
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
    private bool _containerReady;

    /// <summary>From a connection string (Azurite, account keys) or a service URI with DefaultAzureCredential (managed identity).</summary>
    public static BlobCheckpointStore Create(string? connectionString, string? serviceUri, string container)
    {
        var service = connectionString is { Length: > 0 }
            ? Client(connectionString)
            : serviceUri is { Length: > 0 }
                ? new BlobServiceClient(new Uri(serviceUri), new DefaultAzureCredential())
                : throw new ArgumentException("The blob checkpoint store needs VlmRm:BlobConnectionString or VlmRm:BlobServiceUri.");
        return new BlobCheckpointStore(service.GetBlobContainerClient(container));
    }

    /// <summary>The service a connection string names; a malformed one is named by its setting, never echoed (it holds the key).</summary>
    private static BlobServiceClient Client(string connectionString)
    {
        try
        {
            return new BlobServiceClient(connectionString);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"VlmRm:BlobConnectionString does not parse as an Azure Storage connection string ({e.Message}).");
        }
    }

    public async Task<CheckpointInfo> SaveAsync(string runId, string name, Stream content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken)
    {
        try
        {
            return await SaveOnceAsync(runId, name, content, timesteps, trainingReward, isBest, cancellationToken);
        }
        catch (RequestFailedException e) when (e.ErrorCode == "ContainerNotFound")
        {
            // The container went away (deleted, or an emulator restarted without its data): make it again.
            _containerReady = false;
            return await SaveOnceAsync(runId, name, content, timesteps, trainingReward, isBest, cancellationToken);
        }
    }

    private async Task<CheckpointInfo> SaveOnceAsync(string runId, string name, Stream content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var start = content.Position; // a retry after ContainerNotFound reads the content again
        var (bytes, sha) = await CheckpointBytes.CopyAsync(content, null, cancellationToken);
        content.Position = start;
        var info = new CheckpointInfo(runId, name, timesteps, trainingReward, bytes, sha, DateTimeOffset.UtcNow);
        var data = container.GetBlobClient($"{runId}/{name}.ckpt");
        await data.UploadAsync(content, overwrite: true, cancellationToken);
        content.Position = start;
        await using (var stored = await data.OpenReadAsync(cancellationToken: cancellationToken))
        {
            var (storedBytes, storedSha) = await CheckpointBytes.CopyAsync(stored, null, cancellationToken);
            if (storedBytes != bytes || storedSha != sha)
            {
                throw new IOException($"Checkpoint {runId}/{name} did not read back intact from blob storage ({storedBytes} of {bytes} bytes); not marked latest.");
            }
        }
        var sidecar = BinaryData.FromObjectAsJson(info, Json);
        await container.GetBlobClient($"{runId}/{name}.json").UploadAsync(sidecar, overwrite: true, cancellationToken);
        await container.GetBlobClient($"{runId}/latest.json").UploadAsync(sidecar, overwrite: true, cancellationToken);
        if (isBest) await container.GetBlobClient($"{runId}/best.json").UploadAsync(sidecar, overwrite: true, cancellationToken);
        return info;
    }

    public Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken) => LoadAsync(runId, "latest.json", fallBack: true, cancellationToken);

    public Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken) => LoadAsync(runId, "best.json", fallBack: false, cancellationToken);

    public async Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken) => (await ListingAsync(runId, cancellationToken)).Infos;

    private async Task<CheckpointListing> ListingAsync(string runId, CancellationToken cancellationToken)
    {
        if (!await container.ExistsAsync(cancellationToken)) return new CheckpointListing([], []);
        var (infos, unreadable) = (new List<CheckpointInfo>(), new List<string>());
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{runId}/", cancellationToken))
        {
            var file = blob.Name[(runId.Length + 1)..];
            if (!file.EndsWith(".json", StringComparison.Ordinal) || file is "latest.json" or "best.json") continue;
            var (info, torn) = await ReadInfoAsync(blob.Name, cancellationToken);
            if (info is not null) infos.Add(info);
            else if (torn) unreadable.Add(Path.GetFileNameWithoutExtension(file));
        }
        return new CheckpointListing([.. infos.OrderBy(i => i.Timesteps)], unreadable);
    }

    public async Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken) => (await TryReadAsync(info, cancellationToken)).Item1;

    public async Task DeleteAsync(CheckpointInfo info, CancellationToken cancellationToken)
    {
        await container.GetBlobClient($"{info.RunId}/{info.Name}.json").DeleteIfExistsAsync(cancellationToken: cancellationToken);
        await container.GetBlobClient($"{info.RunId}/{info.Name}.ckpt").DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    public async Task SaveEmbeddingSegmentAsync(string runId, long firstStep, Stream content, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        // One upload replaces the blob whole: a reader sees the old segment or the new one, never a mix.
        await container.GetBlobClient(SegmentBlob(runId, firstStep)).UploadAsync(content, overwrite: true, cancellationToken);
    }

    public async Task<IReadOnlyList<long>> ListEmbeddingSegmentsAsync(string runId, CancellationToken cancellationToken)
    {
        if (!await container.ExistsAsync(cancellationToken)) return [];
        var steps = new List<long>();
        var prefix = $"{runId}/{EmbeddingLog.Folder}/";
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, cancellationToken))
        {
            if (EmbeddingLog.SegmentStep(blob.Name[prefix.Length..]) is { } step) steps.Add(step);
        }
        return [.. steps.Order()];
    }

    public async Task<Stream?> OpenEmbeddingSegmentAsync(string runId, long firstStep, CancellationToken cancellationToken)
    {
        try
        {
            return await container.GetBlobClient(SegmentBlob(runId, firstStep)).OpenReadAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static string SegmentBlob(string runId, long firstStep) => $"{runId}/{EmbeddingLog.Folder}/{EmbeddingLog.SegmentName(firstStep)}";

    private async Task<LoadedCheckpoint?> LoadAsync(string runId, string pointer, bool fallBack, CancellationToken cancellationToken)
    {
        if (!await container.ExistsAsync(cancellationToken)) return null;
        var (pointed, torn) = await ReadInfoAsync($"{runId}/{pointer}", cancellationToken);
        var problem = torn ? $"{pointer} is not readable JSON" : null;
        return await CheckpointSelection.LoadAsync(runId, (pointed, problem), fallBack, () => ListingAsync(runId, cancellationToken), info => TryReadAsync(info, cancellationToken));
    }

    private async Task<(LoadedCheckpoint?, string?)> TryReadAsync(CheckpointInfo info, CancellationToken cancellationToken)
    {
        // Downloaded to a temporary file deleted when the checkpoint is disposed, verified before it is handed out.
        var file = new FileStream(Path.Combine(Path.GetTempPath(), $"vlmrm-checkpoint-{Guid.NewGuid():N}.ckpt"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            bufferSize: 1 << 20, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        string damage;
        try
        {
            await container.GetBlobClient($"{info.RunId}/{info.Name}.ckpt").DownloadToAsync(file, cancellationToken);
            if (await CheckpointBytes.DamageAsync(file, info, cancellationToken) is not { } found) return (new LoadedCheckpoint(info, file), null);
            damage = found;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            damage = $"{info.Name}.ckpt is missing (deleted by retention, or never finished)";
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
        await file.DisposeAsync();
        return (null, damage);
    }

    /// <summary>A sidecar or pointer: its info, or none with Torn telling a blob that does not read from one that is gone.</summary>
    private async Task<(CheckpointInfo? Info, bool Torn)> ReadInfoAsync(string blobName, CancellationToken cancellationToken)
    {
        try
        {
            var content = (await container.GetBlobClient(blobName).DownloadContentAsync(cancellationToken)).Value.Content;
            return content.ToObjectFromJson<CheckpointInfo>(Json) is { } info ? (info, false) : (null, true);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, false); // deleted since it was listed (retention)
        }
        catch (JsonException)
        {
            return (null, true);
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerReady) return;
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        _containerReady = true;
    }
}
