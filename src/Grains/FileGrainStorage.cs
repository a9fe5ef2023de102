using System.Security.Cryptography;
using Orleans.Serialization;
using Orleans.Storage;
using VlmRm.Envs.Imaging;

namespace VlmRm.Grains;

/// <summary>
/// Grain state as files (one per grain and state name), written atomically, with the file's write
/// time as the ETag: the embedded cluster's sweeps and runs survive a restart without any service. Each file
/// starts with a marker and the SHA-256 of the state that follows, so a truncated, zeroed or bit-flipped file is
/// refused by name instead of deserializing into a wrong sweep.
/// </summary>
public sealed class FileGrainStorage(string directory, Serializer serializer) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }
        grainState.State = serializer.Deserialize<T>(Verified(path, File.ReadAllBytes(path)));
        grainState.ETag = ETagOf(path);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathFor(stateName, grainId);
        var current = File.Exists(path) ? ETagOf(path) : null;
        if (current != grainState.ETag)
        {
            throw new InconsistentStateException($"State {stateName} of {grainId} changed on disk since it was read.", current, grainState.ETag);
        }
        AtomicFile.WriteAllBytes(path, Framed(serializer.SerializeToArray(grainState.State)));
        grainState.ETag = ETagOf(path);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        File.Delete(PathFor(stateName, grainId));
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static ReadOnlySpan<byte> Marker => "VLMRM-STATE-1\n"u8;

    private const int HashBytes = 32;

    private static byte[] Framed(byte[] state) => [.. Marker, .. SHA256.HashData(state), .. state];

    private static byte[] Verified(string path, byte[] file)
    {
        var header = Marker.Length + HashBytes;
        var problem = file.Length < header || !file.AsSpan(0, Marker.Length).SequenceEqual(Marker) ? $"{file.Length} bytes without VlmRm's state header (truncated, zeroed or not written by this storage)"
            : !SHA256.HashData(file.AsSpan(header)).AsSpan().SequenceEqual(file.AsSpan(Marker.Length, HashBytes)) ? "its content does not match its SHA-256 (the file changed after it was written)"
            : null;
        if (problem is null) return file[header..];
        throw new InvalidDataException($"Grain state file {path} is damaged: {problem}. Move it aside to let the grain start empty (a sweep then needs resubmitting; its runs' checkpoints are kept).");
    }

    private string PathFor(string stateName, GrainId grainId)
    {
        var name = $"{grainId.Type}-{grainId.Key}-{stateName}";
        foreach (var c in Path.GetInvalidFileNameChars().Append(':').Append('|')) name = name.Replace(c, '_');
        return Path.Combine(directory, name + ".state");
    }

    private static string ETagOf(string path) => File.GetLastWriteTimeUtc(path).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
