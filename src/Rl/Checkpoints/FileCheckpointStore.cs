using System.Security.Cryptography;
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

    public Task<CheckpointInfo> SaveAsync(string runId, string name, ReadOnlyMemory<byte> content, long timesteps, double trainingReward, bool isBest, CancellationToken cancellationToken)
    {
        var folder = RunFolder(runId);
        var info = new CheckpointInfo(runId, name, timesteps, trainingReward, content.Length, Convert.ToHexStringLower(SHA256.HashData(content.Span)), DateTimeOffset.UtcNow);
        AtomicFile.WriteAllBytes(Path.Combine(folder, name + ".ckpt"), content.Span);
        var sidecar = JsonSerializer.SerializeToUtf8Bytes(info, Json);
        AtomicFile.WriteAllBytes(Path.Combine(folder, name + ".json"), sidecar);
        AtomicFile.WriteAllBytes(Path.Combine(folder, "latest.json"), sidecar);
        if (isBest) AtomicFile.WriteAllBytes(Path.Combine(folder, "best.json"), sidecar);
        return Task.FromResult(info);
    }

    public Task<LoadedCheckpoint?> LoadLatestAsync(string runId, CancellationToken cancellationToken) => Task.FromResult(Load(runId, "latest.json"));

    public Task<LoadedCheckpoint?> LoadBestAsync(string runId, CancellationToken cancellationToken) => Task.FromResult(Load(runId, "best.json"));

    public Task<IReadOnlyList<CheckpointInfo>> ListAsync(string runId, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<CheckpointInfo>>(List(runId));

    public Task<LoadedCheckpoint?> LoadAsync(CheckpointInfo info, CancellationToken cancellationToken) => Task.FromResult(TryRead(Path.Combine(Root, info.RunId), info));

    private List<CheckpointInfo> List(string runId)
    {
        var folder = Path.Combine(Root, runId);
        if (!Directory.Exists(folder)) return [];
        return Directory.GetFiles(folder, "*.json")
            .Where(f => Path.GetFileName(f) is not ("latest.json" or "best.json"))
            .Select(ReadInfo)
            .OfType<CheckpointInfo>()
            .OrderBy(i => i.Timesteps)
            .ToList();
    }

    private LoadedCheckpoint? Load(string runId, string pointer)
    {
        var folder = Path.Combine(Root, runId);
        var pointed = ReadInfo(Path.Combine(folder, pointer));
        if (pointed is not null && TryRead(folder, pointed) is { } loaded) return loaded;
        // The pointer is missing or its file is damaged: fall back to the newest intact checkpoint.
        return pointer == "latest.json"
            ? List(runId).OrderByDescending(i => i.Timesteps).Select(info => TryRead(folder, info)).FirstOrDefault(c => c is not null)
            : null;
    }

    private static LoadedCheckpoint? TryRead(string folder, CheckpointInfo info)
    {
        var path = Path.Combine(folder, info.Name + ".ckpt");
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != info.Bytes || Convert.ToHexStringLower(SHA256.HashData(bytes)) != info.Sha256) return null;
        return new LoadedCheckpoint(info, bytes);
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
