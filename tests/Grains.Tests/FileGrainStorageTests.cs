using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace VlmRm.Grains.Tests;

/// <summary>The embedded cluster's grain state files: a damaged one is refused by name, never read as a wrong state.</summary>
public sealed class FileGrainStorageTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    public static TheoryData<string> Damages() => ["truncated", "zero-length", "bit-flipped", "written by something else"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task A_damaged_state_file_is_a_named_error(string damage)
    {
        var directory = Directory.CreateTempSubdirectory("vlmrm-state-").FullName;
        var storage = new FileGrainStorage(directory, Serializer);
        var grain = GrainId.Create("sweep", "nightly");
        await storage.WriteStateAsync("sweep", grain, new GrainState<string> { State = "runs: a, b, c" });
        var read = new GrainState<string>();
        await storage.ReadStateAsync("sweep", grain, read);
        Assert.Equal("runs: a, b, c", read.State);

        var file = Assert.Single(Directory.GetFiles(directory));
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, damage switch
        {
            "truncated" => bytes[..^3],
            "zero-length" => [],
            "bit-flipped" => [.. bytes[..^1], (byte)(bytes[^1] ^ 0x10)],
            _ => Serializer.SerializeToArray("runs: a, b, c"),
        });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadStateAsync("sweep", grain, new GrainState<string>()));
        Assert.Contains($"Grain state file {file} is damaged:", error.Message);
        Assert.Contains("Move it aside", error.Message);
    }
}
