using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VlmRm.Envs.Imaging;

namespace VlmRm.Evaluation.LabelledSets;

/// <summary>One labelled state: its frame (a PNG inside the set), whether it shows the goal, where it came from and who labelled it.</summary>
public sealed record LabelledFrame(string Frame, bool IsGoal, string Source, string Labeller, float[]? State = null);

/// <summary>What a set holds, written last so that a set whose manifest exists is complete.</summary>
public sealed record LabelledSetManifest
{
    public string Format { get; init; } = LabelledSet.FormatName;
    public int Version { get; init; } = LabelledSet.FormatVersion;
    public required string Env { get; init; }
    public required string Task { get; init; }
    public required int Count { get; init; }
    public required int FrameWidth { get; init; }
    public required int FrameHeight { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// A labelled set of states on disk, for EPIC to goal labels (paper appendix A, B):
/// <c>labelled-set.json</c> (manifest), <c>labels.jsonl</c> (one {"frame","label","source","labeller","state"?} per line),
/// <c>frames/*.png</c>. Loading validates everything a bad or tampered set could get wrong and names the line.
/// </summary>
public sealed class LabelledSet
{
    public const string FormatName = "vlmrm-labelled-set";
    public const int FormatVersion = 1;
    public const string ManifestFile = "labelled-set.json";
    public const string LabelsFile = "labels.jsonl";
    public const string FramesFolder = "frames";

    /// <summary>snake_case JSON, shared by every file format of the evaluation tools.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private LabelledSet(string directory, LabelledSetManifest manifest, IReadOnlyList<LabelledFrame> frames)
    {
        Directory = directory;
        Manifest = manifest;
        Frames = frames;
    }

    public string Directory { get; }
    public LabelledSetManifest Manifest { get; }
    public IReadOnlyList<LabelledFrame> Frames { get; }
    public int Count => Frames.Count;
    public int GoalCount => Frames.Count(f => f.IsGoal);

    public bool[] Labels() => Frames.Select(f => f.IsGoal).ToArray();

    public string FramePath(int index) => Path.Combine(Directory, Frames[index].Frame);

    public static LabelledSet Load(string directory)
    {
        var root = Path.GetFullPath(directory);
        var manifestPath = Path.Combine(root, ManifestFile);
        if (!File.Exists(manifestPath)) throw new InvalidDataException($"{root} is not a labelled set: {ManifestFile} is missing (an interrupted write leaves no manifest).");
        LabelledSetManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<LabelledSetManifest>(File.ReadAllText(manifestPath), Json) ?? throw new InvalidDataException("empty manifest");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{manifestPath}: {e.Message}", e);
        }
        if (manifest.Format != FormatName) throw new InvalidDataException($"{manifestPath}: format is '{manifest.Format}', expected '{FormatName}'.");
        if (manifest.Version != FormatVersion) throw new InvalidDataException($"{manifestPath}: version {manifest.Version}; this build reads version {FormatVersion}.");

        var labelsPath = Path.Combine(root, LabelsFile);
        if (!File.Exists(labelsPath)) throw new InvalidDataException($"{root}: {LabelsFile} is missing.");
        var frames = new List<LabelledFrame>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(labelsPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = $"{labelsPath}:{lineNumber}";
            var frame = ParseLine(line, where);
            if (seen.TryGetValue(frame.Frame, out var first)) throw new InvalidDataException($"{where}: frame '{frame.Frame}' is labelled twice (first on line {first}).");
            seen[frame.Frame] = lineNumber;
            var full = Path.GetFullPath(Path.Combine(root, frame.Frame));
            if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new InvalidDataException($"{where}: frame '{frame.Frame}' points outside the set.");
            if (!File.Exists(full)) throw new InvalidDataException($"{where}: frame '{frame.Frame}' is missing.");
            frames.Add(frame);
        }
        if (frames.Count != manifest.Count) throw new InvalidDataException($"{labelsPath}: {frames.Count} labels, the manifest says {manifest.Count} (truncated or edited labels file).");
        return new LabelledSet(root, manifest, frames);
    }

    /// <summary>Reads frame <paramref name="index"/> as RGB; it must have the set's size.</summary>
    public byte[] ReadFrame(int index)
    {
        var image = Png.Read(FramePath(index));
        if (image.Width != Manifest.FrameWidth || image.Height != Manifest.FrameHeight)
        {
            throw new InvalidDataException($"{FramePath(index)} is {image.Width}×{image.Height}; the set's frames are {Manifest.FrameWidth}×{Manifest.FrameHeight}.");
        }
        return image.ToRgb();
    }

    /// <summary>SHA-256 over the labels file and every frame's bytes: a cache keyed by it is invalidated by any change.</summary>
    public string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(File.ReadAllBytes(Path.Combine(Directory, LabelsFile)));
        for (var i = 0; i < Count; i++) hash.AppendData(File.ReadAllBytes(FramePath(i)));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal static string FormatLine(LabelledFrame frame)
    {
        var node = new JsonObject
        {
            ["frame"] = frame.Frame,
            ["label"] = frame.IsGoal ? 1 : 0,
            ["source"] = frame.Source,
            ["labeller"] = frame.Labeller,
        };
        if (frame.State is { } state) node["state"] = new JsonArray(state.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
        return node.ToJsonString();
    }

    private static LabelledFrame ParseLine(string line, string where)
    {
        JsonObject node;
        try
        {
            node = JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException($"{where}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not valid JSON ({e.Message}).", e);
        }
        string Text(string key) => node[key] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw new InvalidDataException($"{where}: '{key}' must be a non-empty string.");
        var isGoal = node["label"] switch
        {
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            JsonValue v when v.TryGetValue<int>(out var i) && i is 0 or 1 => i == 1,
            _ => throw new InvalidDataException($"{where}: 'label' must be 0, 1, true or false, got {node["label"]?.ToJsonString() ?? "nothing"}."),
        };
        float[]? state = null;
        if (node["state"] is JsonArray array)
        {
            state = new float[array.Count];
            for (var i = 0; i < state.Length; i++)
            {
                state[i] = array[i] is JsonValue v && v.TryGetValue<float>(out var f) && float.IsFinite(f) ? f : throw new InvalidDataException($"{where}: state[{i}] is not a finite number.");
            }
        }
        return new LabelledFrame(Text("frame"), isGoal, Text("source"), Text("labeller"), state);
    }
}

/// <summary>Writes a labelled set: frames as they come, then labels and, last, the manifest, each atomically.</summary>
public sealed class LabelledSetWriter
{
    private readonly string _directory;
    private readonly List<LabelledFrame> _frames = [];
    private readonly int _width;
    private readonly int _height;

    public LabelledSetWriter(string directory, int frameWidth, int frameHeight)
    {
        _directory = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(_directory, LabelledSet.ManifestFile))) throw new IOException($"{_directory} already holds a labelled set; choose another folder or delete it.");
        _width = frameWidth;
        _height = frameHeight;
        System.IO.Directory.CreateDirectory(Path.Combine(_directory, LabelledSet.FramesFolder));
    }

    public int Count => _frames.Count;

    public void Add(ReadOnlySpan<byte> rgb, bool isGoal, string source, string labeller, float[]? state = null)
    {
        if (rgb.Length != _width * _height * 3) throw new ArgumentException($"Frame has {rgb.Length} bytes, {_width}×{_height} RGB needs {_width * _height * 3}.");
        var name = $"{LabelledSet.FramesFolder}/{_frames.Count:D6}.png";
        AtomicFile.WriteAllBytes(Path.Combine(_directory, name), Png.Encode(rgb, _width, _height, 3));
        _frames.Add(new LabelledFrame(name, isGoal, source, labeller, state));
    }

    public LabelledSet Complete(string env, string task, string? description = null)
    {
        var labels = new StringBuilder();
        foreach (var frame in _frames) labels.Append(LabelledSet.FormatLine(frame)).Append('\n');
        AtomicFile.WriteAllBytes(Path.Combine(_directory, LabelledSet.LabelsFile), Encoding.UTF8.GetBytes(labels.ToString()));
        var manifest = new LabelledSetManifest { Env = env, Task = task, Count = _frames.Count, FrameWidth = _width, FrameHeight = _height, Description = description };
        AtomicFile.WriteAllBytes(Path.Combine(_directory, LabelledSet.ManifestFile), JsonSerializer.SerializeToUtf8Bytes(manifest, LabelledSet.Json));
        return LabelledSet.Load(_directory);
    }
}
