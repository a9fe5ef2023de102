using System.Text.Json;
using VlmRm.Envs.Imaging;

namespace VlmRm.Rl.Planning;

/// <summary>One run's estimate as <c>vlmrm plan</c> stores it, read back by the sweep's report to set beside what the run measured.</summary>
public sealed record PlannedRunCost(string RunId, RunCost Cost, double? ImagesPerSecond, string ImagesSource);

/// <summary>A sweep's plan on disk: <c>plan.json</c> in the sweep's report folder.</summary>
public sealed record SweepPlanFile(string Sweep, string? Node, DateTimeOffset CreatedUtc, IReadOnlyList<PlannedRunCost> Runs)
{
    public const string Name = "plan.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static void Write(string path, string sweep, string? node, IReadOnlyList<PlannedRun> runs)
    {
        var file = new SweepPlanFile(sweep, node, DateTimeOffset.UtcNow, runs.Select(r => new PlannedRunCost(r.Run.RunId, r.Cost, r.Rates.ImagesPerSecond, r.Rates.ImagesSource)).ToList());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(file, Json));
    }

    /// <summary>The plan at <paramref name="path"/>; null when there is none; a damaged one is named.</summary>
    public static SweepPlanFile? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<SweepPlanFile>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a plan vlmrm plan wrote ({e.Message}); run vlmrm plan again.", e);
        }
    }
}
