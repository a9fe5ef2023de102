using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Abstractions;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// No secret reaches a log: a silo process with a password-protected redis-server and a blob store behind an
/// account key runs a sweep, loses its blob store mid-run, then its Redis, and is stopped. Everything it wrote
/// (Orleans' startup option dumps, checkpoint failures, the shutdown watchdog) and every error the test saw
/// are searched for the password and the key.
/// </summary>
public sealed class SecretsInLogsTests : IDisposable
{
    private readonly List<Process> _processes = [];

    [Fact]
    public async Task Neither_the_redis_password_nor_the_storage_key_appears_in_logs_or_errors()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.SkipUnless(File.Exists(LocalServices.SiloDll), $"the silo is not built in Release ({LocalServices.SiloDll})");
        Assert.SkipWhen(!File.Exists("/usr/bin/redis-server"), "redis-server is not installed (./vlmrm setup installs it)");
        Assert.SkipUnless(File.Exists(LocalServices.AzuriteBlob), "Azurite is not installed in tools/azurite (run ./vlmrm setup)");
        var password = $"pw-{Guid.NewGuid():N}";
        var redisPort = LocalServices.FreePort();
        var redisServer = LocalServices.StartRedis(redisPort, password);
        _processes.Add(redisServer);
        var redis = $"127.0.0.1:{redisPort},password={password}";
        var blobPort = LocalServices.FreePort();
        var azurite = LocalServices.StartAzurite(blobPort, Directory.CreateTempSubdirectory("vlmrm-secrets-blob-").FullName);
        _processes.Add(azurite);
        var silo = LocalServices.StartRedisSilo(redis, Directory.CreateTempSubdirectory("vlmrm-secrets-").FullName,
            ["--VlmRm:CheckpointStore=blob", $"--VlmRm:BlobConnectionString={LocalServices.AzuriteConnectionString(blobPort)}", "--Silo:ShutdownSeconds=10"]);
        _processes.Add(silo.Process);
        var errors = new List<string>(); // the run's events and errors as a client sees them

        using (var host = await LocalServices.RedisClientAsync(redis, ct))
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            Assert.Equal(1, await LocalServices.ActiveSilosAsync(client, 1));
            var config = RunConfigLoader.LoadFile("cartpole-dqn-quick") with { TotalTimesteps = 200_000, CheckpointInterval = 300 };
            var sweep = client.GetGrain<ISweepGrain>("secrets");
            await sweep.SubmitAsync([new RunRequest("secrets.s0", RunConfigLoader.ToJson(config), "secrets")], 1);
            var learner = client.GetGrain<ILearnerGrain>("secrets.s0");
            while ((await learner.GetStatusAsync()).Timesteps < 2 * config.CheckpointInterval) await Task.Delay(200, ct);
            // Blob storage goes away with the run in flight: its checkpoints fail, are retried and are logged.
            LocalServices.Stop(azurite);
            _processes.Remove(azurite);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            IReadOnlyList<string> events = [];
            while (!events.Any(e => e.Contains("checkpoint write failed", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, ct);
                events = await learner.GetLogAsync();
            }
            Assert.True(events.Any(e => e.Contains("checkpoint write failed", StringComparison.Ordinal)), $"no checkpoint failure within 90 s of the outage:\n{string.Join("\n", events)}");
            errors.AddRange(events);
            errors.AddRange((await sweep.GetStatusAsync()).Runs.Select(r => r.Error).OfType<string>());
        }
        LocalServices.Stop(redisServer);
        _processes.Remove(redisServer);
        using (var term = Process.Start("kill", ["-TERM", $"{silo.Process.Id}"])) await term!.WaitForExitAsync(ct);
        Assert.True(silo.Process.WaitForExit(TimeSpan.FromSeconds(40)), "the silo did not exit after SIGTERM");

        var logs = LocalServices.OutputOf(silo.Process);
        // The logs were captured to the end.
        Assert.Contains($"unreachable: Redis at 127.0.0.1:{redisPort}; blob storage at 127.0.0.1:{blobPort}", logs);
        foreach (var text in errors.Append(logs))
        {
            Assert.DoesNotContain(password, text);
            Assert.DoesNotContain(LocalServices.AzuriteAccountKey, text);
            Assert.DoesNotContain(LocalServices.AzuriteAccountKey[..12], text);
        }
        File.WriteAllText(Path.Combine(TestPaths.ArtifactsDirectory("grains"), "secrets-silo.log"), logs);
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
