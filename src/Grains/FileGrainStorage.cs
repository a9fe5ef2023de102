using Orleans.Serialization;
using Orleans.Storage;
using VlmRm.Envs.Imaging;

namespace VlmRm.Grains;

/// <summary>
/// Grain state as files (one per grain and state name), written atomically, with the file's write
/// time as the ETag: the embedded cluster's sweeps and runs survive a restart without any service.
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
        grainState.State = serializer.Deserialize<T>(File.ReadAllBytes(path));
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
        AtomicFile.WriteAllBytes(path, serializer.SerializeToArray(grainState.State));
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

    private string PathFor(string stateName, GrainId grainId)
    {
        var name = $"{grainId.Type}-{grainId.Key}-{stateName}";
        foreach (var c in Path.GetInvalidFileNameChars().Append(':').Append('|')) name = name.Replace(c, '_');
        return Path.Combine(directory, name + ".state");
    }

    private static string ETagOf(string path) => File.GetLastWriteTimeUtc(path).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
