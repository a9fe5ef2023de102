using System.Text.Json;
using VlmRm.Envs.Imaging;

namespace VlmRm.Rl.Checkpoints;

/// <summary>
/// Checkpoints on the local filesystem: <c>&lt;root&gt;/&lt;run&gt;/&lt;name&gt;.ckpt</c> with a JSON sidecar, and
/// <c>latest.json</c> / <c>best.json</c> pointers. Each file is written to a temporary name, flushed and
/// renamed; pointers move only after the data is in place. Loading verifies size and SHA-256 and falls
/// back to the newest intact checkpoint.
/// </summary>
public sealed class FileCheckpointStore(string root) : ICheckpointStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string Root { get; } = Path.GetFullPath(root);

    public async Task<CheckpointInfo> SaveAsync(string runId, string name, Stream content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken)
    {
        var folder = RunFolder(runId);
        var (bytes, sha) = (0L, "");
        // Streamed to a temporary file while hashed, then renamed: the data is whole on disk before any listing names it.
        await AtomicFile.WriteAsync(Path.Combine(folder, name + ".ckpt"), async file => (bytes, sha) = await CheckpointBytes.CopyAsync(content, file, cancellationToken));
        var info = new CheckpointInfo(runId, name, timesteps, trainingReward, bytes, sha, DateTimeOffset.UtcNow);
        var sidecar = JsonSerializer.SerializeToUtf8Bytes(info, Json);
        AtomicFile.WriteAllBytes(Path.Combine(folder, name + ".json"), sidecar);
        AtomicFile.WriteAllBytes(Path.Combine(folder, "latest.json"), sidecar);
        if (isBest) AtomicFile.WriteAllBytes(Path.Combine(folder, "best.json"), sidecar);
        return info;
    }

    public Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken) => LoadAsync(runId, "latest.json", cancellationToken);

    public Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken) => LoadAsync(runId, "best.json", cancellationToken);

    public Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken) => Task.FromResult(List(runId).Infos);

    public async Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken) => (await TryReadAsync(Path.Combine(Root, info.RunId), info, cancellationToken)).Item1;

    public Task DeleteAsync(CheckpointInfo info, CancellationToken cancellationToken)
    {
        var folder = RunFolder(info.RunId);
        File.Delete(Path.Combine(folder, info.Name + ".json"));
        File.Delete(Path.Combine(folder, info.Name + ".ckpt"));
        return Task.CompletedTask;
    }

    public async Task SaveEmbeddingSegmentAsync(string runId, long firstStep, Stream content, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(RunFolder(runId), EmbeddingLog.Folder);
        Directory.CreateDirectory(folder);
        await AtomicFile.WriteAsync(Path.Combine(folder, EmbeddingLog.SegmentName(firstStep)), file => content.CopyToAsync(file, cancellationToken));
    }

    public Task<IReadOnlyList<long>> ListEmbeddingSegmentsAsync(string runId, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Root, runId, EmbeddingLog.Folder);
        IReadOnlyList<long> steps = Directory.Exists(folder)
            ? [.. Directory.GetFiles(folder).Select(f => EmbeddingLog.SegmentStep(Path.GetFileName(f))).OfType<long>().Order()]
            : [];
        return Task.FromResult(steps);
    }

    public Task<Stream?> OpenEmbeddingSegmentAsync(string runId, long firstStep, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Root, runId, EmbeddingLog.Folder, EmbeddingLog.SegmentName(firstStep));
        return Task.FromResult<Stream?>(File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1 << 20) : null);
    }

    private CheckpointListing List(string runId)
    {
        var folder = Path.Combine(Root, runId);
        if (!Directory.Exists(folder)) return new CheckpointListing([], []);
        var (infos, unreadable) = (new List<CheckpointInfo>(), new List<string>());
        foreach (var sidecar in Directory.GetFiles(folder, "*.json").Where(f => Path.GetFileName(f) is not ("latest.json" or "best.json")).Order(StringComparer.Ordinal))
        {
            if (ReadInfo(sidecar) is { } info) infos.Add(info);
            else if (File.Exists(sidecar)) unreadable.Add(Path.GetFileNameWithoutExtension(sidecar));
        }
        return new CheckpointListing([.. infos.OrderBy(i => i.Timesteps)], unreadable);
    }

    private Task<LoadedCheckpoint?> LoadAsync(string runId, string pointer, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Root, runId);
        return CheckpointSelection.LoadAsync(runId, ReadPointer(Path.Combine(folder, pointer)), fallBack: pointer == "latest.json",
            () => Task.FromResult(List(runId)), info => TryReadAsync(folder, info, cancellationToken));
    }

    private static async Task<(LoadedCheckpoint?, string?)> TryReadAsync(string folder, CheckpointInfo info, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, info.Name + ".ckpt");
        if (!File.Exists(path)) return (null, $"{info.Name}.ckpt is missing");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1 << 20);
        if (await CheckpointBytes.DamageAsync(file, info, cancellationToken) is not { } damage) return (new LoadedCheckpoint(info, file), null);
        await file.DisposeAsync();
        return (null, damage);
    }

    private static (CheckpointInfo?, string?) ReadPointer(string path)
    {
        if (!File.Exists(path)) return (null, null);
        return ReadInfo(path) is { } info ? (info, null) : (null, $"{Path.GetFileName(path)} is not readable JSON");
    }

    private static CheckpointInfo? ReadInfo(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<CheckpointInfo>(File.ReadAllBytes(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string RunFolder(string runId)
    {
        if (runId.Length == 0 || runId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || runId.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Run id '{runId}' cannot name a folder.", nameof(runId));
        }
        var folder = Path.Combine(Root, runId);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
