using Azure.Core;
using Azure.Storage.Blobs;
using VlmRm.Rl;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Presets;

namespace VlmRm.Grains.Tests;

/// <summary>The blob checkpoint store against a real Azurite process on loopback, including an outage.</summary>
public sealed class BlobCheckpointStoreTests : IDisposable
{
    private readonly int _port = LocalServices.FreePort();
    private readonly string _location = Directory.CreateTempSubdirectory("vlmrm-azurite-").FullName;
    private System.Diagnostics.Process? _azurite;

    private BlobCheckpointStore Store(string container)
    {
        Assert.SkipUnless(File.Exists(LocalServices.AzuriteBlob), "Azurite is not installed in tools/azurite (run ./vlmrm setup)");
        _azurite ??= LocalServices.StartAzurite(_port, _location);
        // Few, quick retries so an outage shows up in seconds rather than after the SDK's default back-off.
        var options = new BlobClientOptions { Retry = { MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(100), Mode = RetryMode.Fixed, NetworkTimeout = TimeSpan.FromSeconds(3) } };
        return new BlobCheckpointStore(new BlobServiceClient(LocalServices.AzuriteConnectionString(_port), options).GetBlobContainerClient(container));
    }

    [Fact]
    public async Task Saves_lists_and_loads_latest_and_best_and_skips_a_damaged_checkpoint()
    {
        var store = Store("basic");
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync("r", "a", new MemoryStream([1, 2]), 10, 5, isBest: true, ct);
        await store.SaveAsync("r", "b", new MemoryStream([3, 4, 5]), 20, 1, isBest: false, ct);
        Assert.Equal("b", (await store.LoadLatestAsync("r", ct))!.Info.Name);
        using (var best = await store.LoadBestAsync("r", ct))
        using (var bytes = new MemoryStream())
        {
            await best!.Content.CopyToAsync(bytes, ct);
            Assert.Equal([1, 2], bytes.ToArray());
        }
        Assert.Equal(["a", "b"], (await store.ListAsync("r", ct)).Select(c => c.Name));

        // Damage the newest data blob behind the store's back: it must never be loaded.
        var container = new BlobServiceClient(LocalServices.AzuriteConnectionString(_port)).GetBlobContainerClient("basic");
        await container.GetBlobClient("r/b.ckpt").UploadAsync(BinaryData.FromBytes([9, 9, 9]), overwrite: true, ct);
        Assert.Equal("a", (await store.LoadLatestAsync("r", ct))!.Info.Name);
        Assert.Null(await store.LoadLatestAsync("no-such-run", ct));
    }

    [Fact]
    public async Task Embedding_log_segments_are_stored_listed_and_read_back_as_one_chain()
    {
        var store = Store("embeddings");
        var ct = TestContext.Current.CancellationToken;
        async Task Segment(long from, long to, float value, int rows)
        {
            var log = new VlmRm.Rl.Checkpoints.EmbeddingLog();
            for (var i = 0; i < rows; i++) log.Add([(Half)value, (Half)(-value)], success: i % 2 == 0);
            await log.SaveSegmentAsync(store, "r", from, to, ct);
        }
        await Segment(0, 10, 1, 10);
        await Segment(10, 20, 2, 10);
        await Segment(20, 25, 9, 5); // a save whose checkpoint never landed ...
        await Segment(20, 30, 3, 10); // ... replaced when the resumed run stores its segment
        await store.SaveAsync("r", "step-30", new MemoryStream([1]), 30, 0, isBest: false, ct); // checkpoints beside the log are unaffected
        Assert.Equal([0L, 10, 20], await store.ListEmbeddingSegmentsAsync("r", ct));
        Assert.Equal(["step-30"], (await store.ListAsync("r", ct)).Select(c => c.Name));
        var chain = await VlmRm.Rl.Checkpoints.EmbeddingLog.ReadAsync(store, "r", ct);
        Assert.Equal([10, 20, 30], chain.Select(c => c.LastStep));
        Assert.Equal([(Half)1, (Half)2, (Half)3], chain.Select(c => c.Embeddings[0]));
        Assert.Equal(30, chain.Sum(c => c.Count));
        Assert.Null(await store.OpenEmbeddingSegmentAsync("r", 5, ct));
        Assert.Empty(await store.ListEmbeddingSegmentsAsync("no-such-run", ct));
    }

    [Fact]
    public async Task Training_continues_through_an_outage_and_the_checkpoint_lands_afterwards()
    {
        var store = Store("outage");
        var ct = TestContext.Current.CancellationToken;
        var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = 100_000, CheckpointInterval = 500 };
        config = config with { Dqn = config.Dqn! with { NetArch = [16], GradientSteps = 2 } };
        using var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller(), "outage-run", store);
        while (trainer.Timesteps < 1_000) await trainer.StepAsync(ct);
        Assert.Equal(1_000, (await store.LoadLatestAsync("outage-run", ct))!.Info.Timesteps);

        LocalServices.Terminate(_azurite!);
        var outageStart = trainer.Timesteps;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (trainer.CheckpointFailures < 2 && clock.Elapsed < TimeSpan.FromSeconds(60)) await trainer.StepAsync(ct);
        Assert.True(trainer.CheckpointFailures >= 2, "checkpoints should have failed while Azurite was down");
        Assert.True(trainer.Timesteps > outageStart + 500, "training went on during the outage");

        _azurite = LocalServices.StartAzurite(_port, _location); // same storage folder: the earlier blobs are still there
        var failures = trainer.CheckpointFailures;
        clock.Restart();
        CheckpointInfo? landed = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            await trainer.StepAsync(ct);
            landed = (await store.LoadLatestAsync("outage-run", ct))?.Info;
            if (landed is not null && landed.Timesteps > outageStart) break;
        }
        Assert.NotNull(landed);
        Assert.True(landed!.Timesteps > outageStart, $"latest checkpoint is still from step {landed.Timesteps}");
        Assert.Equal(failures, trainer.CheckpointFailures);
    }

    public void Dispose()
    {
        if (_azurite is not null) LocalServices.Stop(_azurite);
    }
}
