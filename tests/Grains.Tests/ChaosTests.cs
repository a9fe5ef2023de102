using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Abstractions;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// Chaos under load, checked the way Jepsen checks a database: three silo processes clustered through a persistent
/// redis-server, checkpoints in Azurite, a sweep of ground-truth and CLIP-reward runs, and a driver that kills a
/// silo hosting a run (SIGKILL and SIGTERM mixed) at random times, restarts Redis once and stops blob storage once.
/// Asserted: every run finishes; no kill costs a run more than its checkpoint interval; no damaged checkpoint is
/// ever passed over or left latest; every resume continues from a restored step. CI runs it small; <c>./vlmrm bench
/// chaos</c> runs the issue's size (20 kills, a 60 s outage) through VLMRM_CHAOS_KILLS and VLMRM_CHAOS_OUTAGE_SECONDS.
/// </summary>
public sealed class ChaosTests : IDisposable
{
    private const long CheckpointInterval = 2_000;
    private readonly List<Process> _processes = [];
    private static readonly Stopwatch Clock = new();

    /// <summary>
    /// The run's progress as it happens, to the test output and to artifacts/test-output/grains/chaos.log (the test
    /// output is shown only at the end: a bench run of many minutes should be watchable, and a stall diagnosable).
    /// </summary>
    private static void Note(string line)
    {
        var stamped = $"{Clock.Elapsed.TotalSeconds:F0} s: {line}";
        TestContext.Current.TestOutputHelper?.WriteLine(stamped);
        File.AppendAllText(Path.Combine(TestPaths.ArtifactsDirectory("grains"), "chaos.log"), stamped + "\n");
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    private sealed record Kill(int Index, string Signal, int SiloPort, string Runs, string Losses, double RecoverySeconds, (long Steps, string Run) LargestLoss);

    [Fact]
    public async Task A_sweep_survives_silo_kills_redis_restarts_and_storage_outages()
    {
        var ct = TestContext.Current.CancellationToken;
        var kills = Setting("VLMRM_CHAOS_KILLS", 4);
        var outageSeconds = Setting("VLMRM_CHAOS_OUTAGE_SECONDS", 10);
        Assert.SkipUnless(File.Exists(LocalServices.SiloDll), $"the silo is not built in Release ({LocalServices.SiloDll})");
        Assert.SkipWhen(!File.Exists("/usr/bin/redis-server"), "redis-server is not installed (./vlmrm setup installs it)");
        Assert.SkipUnless(File.Exists(LocalServices.AzuriteBlob), "Azurite is not installed in tools/azurite (run ./vlmrm setup)");

        var redisPort = LocalServices.FreePort();
        var redisDirectory = Directory.CreateTempSubdirectory("vlmrm-chaos-redis-").FullName;
        var redisServer = Track(LocalServices.StartRedis(redisPort, directory: redisDirectory));
        var redis = $"127.0.0.1:{redisPort}";
        var blobPort = LocalServices.FreePort();
        var blobDirectory = Directory.CreateTempSubdirectory("vlmrm-chaos-blob-").FullName;
        var azurite = Track(LocalServices.StartAzurite(blobPort, blobDirectory));
        var data = Directory.CreateTempSubdirectory("vlmrm-chaos-").FullName;
        string[] settings = [
            "--VlmRm:CheckpointStore=blob", $"--VlmRm:BlobConnectionString={LocalServices.AzuriteConnectionString(blobPort)}",
            "--VlmRm:SweepWatchPeriod=00:00:05", "--Silo:ShutdownSeconds=15", $"--Clip:ModelsDirectory={Path.Combine(TestPaths.RepositoryRoot, "models")}"];
        var silos = Enumerable.Range(0, 3).Select(_ => StartSilo(redis, data, settings)).ToList();

        var runs = Runs(kills);
        using var host = await LocalServices.RedisClientAsync(redis, ct);
        var client = host.Services.GetRequiredService<IClusterClient>();
        Assert.Equal(3, await LocalServices.ActiveSilosAsync(client, 3));
        await client.GetGrain<ISweepGrain>("chaos").SubmitAsync([.. runs.Select(r => new RunRequest(r.Id, RunConfigLoader.ToJson(r.Config), "chaos"))], runs.Count);

        var store = BlobCheckpointStore.Create(LocalServices.AzuriteConnectionString(blobPort), null, new VlmRmSiloOptions().BlobContainer);
        var rng = new Random(2026);
        var record = new List<Kill>();
        File.Delete(Path.Combine(TestPaths.ArtifactsDirectory("grains"), "chaos.log"));
        Clock.Restart();
        // Every 20 kills (or once in a shorter run) Redis restarts a third of the way in and blob storage stops two thirds in,
        // rounded up: runs train on while storage is down (30 s with the retries landing), and on an idle machine the test's runs
        // finished meanwhile, so the outage comes after the third of four kills, not the second.
        var period = Math.Min(kills, 20);
        Note($"{kills} kills; every {period} kills a Redis restart and a {outageSeconds} s storage outage; runs: {string.Join(", ", runs.Select(r => $"{r.Id} to {r.Config.TotalTimesteps:N0}"))}");
        var (redisRestarts, outages) = (0, 0);
        for (var k = 0; k < kills; k++)
        {
            if (k % period == period / 3)
            {
                redisRestarts++;
                // Redis restarts: membership, grain state and reminders come back from its append-only file.
                Note("Redis restarts");
                LocalServices.Stop(redisServer);
                _processes.Remove(redisServer);
                redisServer = Track(LocalServices.StartRedis(redisPort, directory: redisDirectory));
            }
            if (k % period == (2 * period + 2) / 3)
            {
                outages++;
                // Blob storage goes away: checkpoints fail and are retried while training goes on; no silo dies meanwhile.
                Note($"blob storage stops for {outageSeconds} s");
                LocalServices.Terminate(azurite);
                _processes.Remove(azurite);
                await Task.Delay(TimeSpan.FromSeconds(outageSeconds), ct);
                azurite = Track(LocalServices.StartAzurite(blobPort, blobDirectory));
                Note("blob storage is back; waiting for every running run's checkpoint retry to land");
                var back = DateTimeOffset.UtcNow;
                // The next kill is measured against checkpoints written after the outage: wait for every running run's retry to land.
                var retried = DateTime.UtcNow.AddMinutes(3);
                while (DateTime.UtcNow < retried)
                {
                    var running = (await StatusesAsync(client, runs, ct)).Values.Where(st => st.State == RunState.Running).Select(st => st.RunId).ToList();
                    var landed = 0;
                    foreach (var run in running) landed += (await store.ListAsync(run, ct)).Any(c => c.CreatedUtc > back) ? 1 : 0;
                    if (landed == running.Count) break;
                    await Task.Delay(1_000, ct);
                }
            }
            // Kills are spread over the runs' progress, not over wall time, so they land mid-run on a fast or a loaded machine.
            await ProgressAsync(client, runs, (k + 1.0) / (kills + 2), ct);
            await Task.Delay(rng.Next(0, 2_000), ct);
            var statuses = await StatusesAsync(client, runs, ct);
            var hosting = silos.Where(s => statuses.Values.Any(st => st.State == RunState.Running && OnSilo(st, s.SiloPort))).ToList();
            if (hosting.Count == 0) break; // every run has finished: the kills that remain would hit nothing
            var victim = hosting[rng.Next(hosting.Count)];
            var affected = statuses.Values.Where(st => st.State == RunState.Running && OnSilo(st, victim.SiloPort)).ToDictionary(st => st.RunId, st => st.Timesteps);
            var activationsBefore = new Dictionary<string, int>();
            var checkpointBefore = new Dictionary<string, long>();
            foreach (var run in affected.Keys)
            {
                activationsBefore[run] = RunEvents.LastActivation(await LogAsync(client, run, ct));
                checkpointBefore[run] = await RunEvents.NewestCheckpointAsync(store, run, ct);
            }

            var signal = rng.Next(2) == 0 ? "SIGKILL" : "SIGTERM";
            Note($"kill {k + 1} ({signal}) of the silo on port {victim.SiloPort}, hosting {string.Join(", ", affected.Select(a => $"{a.Key} at {a.Value}"))}");
            var killedAt = Clock.Elapsed;
            if (signal == "SIGKILL") LocalServices.Stop(victim.Process);
            else LocalServices.Terminate(victim.Process);
            _processes.Remove(victim.Process);
            silos.Remove(victim);
            silos.Add(StartSilo(redis, data, settings));

            var losses = new List<string>();
            var largestLoss = (Steps: 0L, Run: "");
            foreach (var (run, before) in affected)
            {
                var resumed = await ResumedAtAsync(client, run, activationsBefore[run], ct);
                losses.Add(resumed is { } at ? $"{run}: {Math.Max(0, before - at):N0}" : $"{run}: finished");
                if (resumed is not { } step) continue;
                if (before - step > largestLoss.Steps) largestLoss = (before - step, run);
                if (step < checkpointBefore[run])
                {
                    var stored = await store.ListAsync(run, ct);
                    var events = await LogAsync(client, run, ct);
                    Assert.Fail($"kill {k + 1} ({signal}): {run} resumed at {step}, behind its checkpoint at {checkpointBefore[run]} stored before the kill. " +
                                $"Stored now: {string.Join(", ", stored.Select(c => $"{c.Name} ({c.CreatedUtc:HH:mm:ss.fff})"))}. Its events:\n{string.Join("\n", events.TakeLast(40))}");
                }
                Assert.True(before - step <= CheckpointInterval, $"kill {k + 1} ({signal}) cost {run} {before - step} steps (seen at {before}, resumed at {step}); the checkpoint interval is {CheckpointInterval}");
            }
            record.Add(new Kill(k + 1, signal, victim.SiloPort, string.Join(", ", affected.Keys), string.Join("; ", losses), (Clock.Elapsed - killedAt).TotalSeconds, largestLoss));
            Note($"kill {k + 1}: {record[^1].Losses} steps lost, resumed within {record[^1].RecoverySeconds:F0} s");
        }

        // Every run finishes, and what it left in blob storage is whole.
        var deadline = DateTime.UtcNow.AddMinutes(8);
        Dictionary<string, RunStatus> final;
        while (true)
        {
            final = await StatusesAsync(client, runs, ct);
            if (final.Values.All(s => s.State is RunState.Done or RunState.Failed or RunState.Cancelled) || DateTime.UtcNow > deadline) break;
            await Task.Delay(1_000, ct);
        }
        var environmentsLost = new Dictionary<string, int>();
        foreach (var run in runs)
        {
            var status = final[run.Id];
            Assert.True(status.State == RunState.Done, $"{run.Id} is {status.State} at {status.Timesteps}: {status.Error}");
            Assert.Equal(run.Config.TotalTimesteps, status.Timesteps);
            var log = await LogAsync(client, run.Id, ct);
            Assert.DoesNotContain(log, l => l.Contains("passed over a damaged checkpoint", StringComparison.Ordinal));
            environmentsLost[run.Id] = log.Count(l => l.Contains("its earlier activation is gone", StringComparison.Ordinal));
            var starts = RunEvents.Starts(log);
            Assert.True(starts.Zip(starts.Skip(1)).All(p => p.Second >= p.First - CheckpointInterval), $"{run.Id} continued from {string.Join(", ", starts)}: a resume went back further than a checkpoint interval");
            using var latest = await store.LoadLatestAsync(run.Id, ct);
            Assert.NotNull(latest);
            Assert.Empty(latest.PassedOver);
            Assert.Equal(run.Config.TotalTimesteps, latest.Info.Timesteps);
        }
        Assert.True(record.Count >= Math.Min(kills, 3), $"only {record.Count} kills happened before every run finished");

        var report = new StringBuilder();
        var largest = record.MaxBy(kill => kill.LargestLoss.Steps)!;
        report.AppendLine(CultureInfo.InvariantCulture, $"{record.Count} kills, Redis restarted {redisRestarts}×, blob storage down {outageSeconds} s {outages}×; {runs.Count} runs, checkpoint interval {CheckpointInterval:N0}; {Clock.Elapsed.TotalSeconds:F0} s");
        report.AppendLine(CultureInfo.InvariantCulture, $"Largest loss: {largest.LargestLoss.Steps:N0} steps ({largest.LargestLoss.Run}, kill {largest.Index}, {largest.Signal}); runs that started over from 0 after a kill: none (each resumed at or after its newest stored checkpoint).");
        report.AppendLine("| kill | signal | runs on the silo | steps lost | until resumed (s) |");
        report.AppendLine("|---:|---|---|---|---:|");
        foreach (var kill in record) report.AppendLine(CultureInfo.InvariantCulture, $"| {kill.Index} | {kill.Signal} | {kill.Runs} | {kill.Losses} | {kill.RecoverySeconds:F0} |");
        foreach (var run in runs) report.AppendLine(CultureInfo.InvariantCulture, $"{run.Id}: {final[run.Id].Resumes} resumes, {environmentsLost[run.Id]} events of an environment activation found gone (in its last 500 events), finished at {final[run.Id].Timesteps:N0}");
        File.WriteAllText(Path.Combine(TestPaths.ArtifactsDirectory("grains"), "chaos.md"), report.ToString());
    }

    /// <summary>
    /// Two ground-truth runs and a CLIP run, with a few checkpoint intervals of progress between kills. Their learners
    /// do an eighth of the presets' updates: the test checks what survives a kill, not what is learned, and CI's time
    /// goes to the kills rather than to gradient steps.
    /// </summary>
    private static List<(string Id, RunConfig Config)> Runs(int kills)
    {
        var length = Math.Max(1, kills / 4.0);
        var groundTruth = RunConfigLoader.LoadFile("cartpole-dqn-quick");
        groundTruth = groundTruth with
        {
            TotalTimesteps = (long)(20_000 * length), CheckpointInterval = CheckpointInterval,
            Dqn = groundTruth.Dqn! with { GradientSteps = groundTruth.Dqn.GradientSteps / 8 },
        };
        var clip = RunConfigLoader.LoadFile("cartpole-dqn-clip-quick");
        clip = clip with
        {
            TotalTimesteps = (long)(10_000 * length), CheckpointInterval = CheckpointInterval,
            Dqn = clip.Dqn! with { GradientSteps = clip.Dqn.GradientSteps / 8 },
            Reward = clip.Reward with { BatchSize = 500, FrameWidth = 64, FrameHeight = 64 },
        };
        return [("chaos.gt.s0", groundTruth with { Seed = 0 }), ("chaos.gt.s1", groundTruth with { Seed = 1 }), ("chaos.clip.s0", clip)];
    }

    private (Process Process, int SiloPort, int DashboardPort, int GatewayPort) StartSilo(string redis, string data, string[] settings)
    {
        var silo = LocalServices.StartRedisSilo(redis, data, settings);
        Track(silo.Process);
        return silo;
    }

    private Process Track(Process process)
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Waits until the runs' mean progress (each run's steps over its total, 1 once finished) reaches <paramref name="fraction"/>;
    /// fails, naming where each run stands, when it has not grown for 3 minutes.
    /// </summary>
    private static async Task ProgressAsync(IClusterClient client, List<(string Id, RunConfig Config)> runs, double fraction, CancellationToken ct)
    {
        var (best, grewAt) = (-1.0, DateTime.UtcNow);
        while (true)
        {
            var statuses = await StatusesAsync(client, runs, ct);
            // A queued run (the sweep starts its runs on its timer) has made none; a finished one all it will.
            var progress = runs.Average(r => statuses[r.Id].IsFinished ? 1 : Math.Min(1, statuses[r.Id].Timesteps / (double)r.Config.TotalTimesteps));
            if (progress >= fraction) return;
            if (progress > best) (best, grewAt) = (progress, DateTime.UtcNow);
            if (DateTime.UtcNow - grewAt > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"the runs made no progress for 3 minutes (mean {progress:P0}, waiting for {fraction:P0}): " +
                    string.Join("; ", statuses.Values.Select(st => $"{st.RunId} {st.State} at {st.Timesteps:N0} on {st.Silo}")));
            }
            await Task.Delay(500, ct);
        }
    }

    private static bool OnSilo(RunStatus status, int siloPort) => status.Silo?.Contains($":{siloPort}:", StringComparison.Ordinal) == true;

    /// <summary>Each run's status from its learner (a dead silo's learner reactivates elsewhere on this call); calls that fail are retried.</summary>
    private static async Task<Dictionary<string, RunStatus>> StatusesAsync(IClusterClient client, List<(string Id, RunConfig Config)> runs, CancellationToken ct)
    {
        var statuses = new Dictionary<string, RunStatus>();
        foreach (var (id, _) in runs) statuses[id] = await RetryAsync(() => client.GetGrain<ILearnerGrain>(id).GetStatusAsync(), ct);
        return statuses;
    }

    private static Task<IReadOnlyList<string>> LogAsync(IClusterClient client, string run, CancellationToken ct) =>
        RetryAsync(() => client.GetGrain<ILearnerGrain>(run).GetLogAsync(), ct);

    /// <summary>
    /// The step the run continued from on its first activation numbered above <paramref name="seen"/>, as its events say
    /// (a resume's step, or 0 for a start with no checkpoint); null if it finished first.
    /// </summary>
    private static async Task<long?> ResumedAtAsync(IClusterClient client, string run, int seen, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        var nextNote = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var log = await LogAsync(client, run, ct);
            if (DateTime.UtcNow > nextNote)
            {
                nextNote = DateTime.UtcNow.AddSeconds(30);
                Note($"still waiting for {run} to continue after activation {seen}; its last events: {string.Join(" | ", log.TakeLast(3))}");
            }
            if (RunEvents.StartAfter(log, seen) is { } start) return start;
            var status = await RetryAsync(() => client.GetGrain<ILearnerGrain>(run).GetStatusAsync(), ct);
            if (status.State == RunState.Done) return null;
            await Task.Delay(500, ct);
        }
        var last = await LogAsync(client, run, ct);
        var now = await RetryAsync(() => client.GetGrain<ILearnerGrain>(run).GetStatusAsync(), ct);
        throw new TimeoutException($"{run} did not continue within 3 minutes of its silo's death (activations above {seen} awaited; status {now.State} at {now.Timesteps} on {now.Silo}). Its events:\n{string.Join("\n", last.TakeLast(12))}");
    }

    /// <summary>A call retried for up to 3 minutes: until the cluster declares a killed silo dead, calls routed to it fail fast.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        var nextNote = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await call().WaitAsync(TimeSpan.FromSeconds(45), ct);
            }
            catch (Exception e) when (DateTime.UtcNow < deadline && e is not OperationCanceledException)
            {
                if (DateTime.UtcNow > nextNote)
                {
                    nextNote = DateTime.UtcNow.AddSeconds(30);
                    Note($"a cluster call keeps failing ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
                }
                await Task.Delay(1_000, ct);
            }
        }
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
    }
}
