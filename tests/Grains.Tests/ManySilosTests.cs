using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Abstractions;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Grains.Tests;

/// <summary>
/// Many silos: four silo processes clustered through a real redis-server on loopback run eight concurrent runs (four
/// ground truth, four rewarded by the shipped CLIP), then one silo process runs the same eight. Asserted: every run
/// finishes at its total on both, and the CLIP runs' frames were all labelled. Reported (artifacts/test-output/grains/
/// many-silos.md): aggregate steps/s, CLIP calls with their fill and merged requests, frame bytes across silos, and per
/// silo where the time went. <c>./vlmrm bench silos</c> runs it 5× longer (VLMRM_SILOS_SCALE).
/// </summary>
public sealed class ManySilosTests : IDisposable
{
    private readonly List<Process> _processes = [];

    private sealed record SiloFigures(int Port, long Steps, long ClipCalls, long ClipFrames, double ClipSeconds, long FrameBytesAcrossSilos, double? Fill, double? RequestsPerCall, int Runs);

    private sealed record Outcome(int Silos, double Seconds, double SubmitSeconds, long Steps, List<SiloFigures> PerSilo);

    [Fact]
    public async Task Eight_runs_finish_on_four_silos_and_on_one_with_the_figures_of_each()
    {
        var ct = TestContext.Current.CancellationToken;
        var scale = int.TryParse(Environment.GetEnvironmentVariable("VLMRM_SILOS_SCALE"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;
        var runs = Runs(scale);
        var four = await RunAsync(4, runs, ct);
        var one = await RunAsync(1, runs, ct);

        var clipSteps = runs.Where(r => r.Config.Reward.Labeller == Rl.Labelling.LabellerKind.Clip).Sum(r => r.Config.TotalTimesteps);
        foreach (var outcome in new[] { four, one })
        {
            Assert.Equal(runs.Sum(r => r.Config.TotalTimesteps), outcome.Steps);
            Assert.True(outcome.PerSilo.Sum(p => p.ClipFrames) >= clipSteps, $"{outcome.Silos} silo(s): {outcome.PerSilo.Sum(p => p.ClipFrames)} frames labelled for {clipSteps} CLIP steps");
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"8 runs (4 ground truth to {runs[0].Config.TotalTimesteps:N0} steps, 4 CLIP to {runs[^1].Config.TotalTimesteps:N0} with B = {runs[^1].Config.Reward.BatchSize}), {Environment.ProcessorCount} cores");
        report.AppendLine();
        report.AppendLine("| cluster | wall (s) | submit call (s) | aggregate steps/s | vs one silo | CLIP calls | frames per call | batch fill | requests per call | CLIP call time (s, summed) | frame MB across silos |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var outcome in new[] { four, one })
        {
            var calls = outcome.PerSilo.Sum(p => p.ClipCalls);
            var frames = outcome.PerSilo.Sum(p => p.ClipFrames);
            var requests = outcome.PerSilo.Where(p => p.RequestsPerCall is not null).Sum(p => p.RequestsPerCall!.Value * p.ClipCalls);
            var rate = outcome.Steps / outcome.Seconds;
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {outcome.Silos} silo process{(outcome.Silos > 1 ? "es" : "")} | {outcome.Seconds:F1} | {outcome.SubmitSeconds:F2} | {rate:N0} | {rate / (one.Steps / one.Seconds):F2}× | {calls:N0} | {(calls == 0 ? 0 : frames / (double)calls):F0} | " +
                $"{(calls == 0 ? 0 : frames / (double)calls / new RewardBatchingOptions().MaxBatchFrames):P0} | {(calls == 0 ? 0 : requests / calls):F2} | {outcome.PerSilo.Sum(p => p.ClipSeconds):F1} | {outcome.PerSilo.Sum(p => p.FrameBytesAcrossSilos) / 1e6:F1} |");
        }
        report.AppendLine();
        report.AppendLine("Per silo of the four (runs counted where their learner finished):");
        report.AppendLine();
        report.AppendLine("| silo port | runs | environment steps | CLIP calls | CLIP frames | CLIP call time (s, summed; calls overlap) | of wall time |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var silo in four.PerSilo)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"| {silo.Port} | {silo.Runs} | {silo.Steps:N0} | {silo.ClipCalls:N0} | {silo.ClipFrames:N0} | {silo.ClipSeconds:F1} | {silo.ClipSeconds / four.Seconds:P0} |");
        }
        File.WriteAllText(Path.Combine(TestPaths.ArtifactsDirectory("grains"), "many-silos.md"), report.ToString());
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
    }

    /// <summary>Four ground-truth and four CLIP runs; their learners do an eighth of the presets' updates, so the cluster's own work shows.</summary>
    private static List<(string Id, RunConfig Config)> Runs(int scale)
    {
        var groundTruth = RunConfigLoader.LoadFile("cartpole-dqn-quick");
        groundTruth = groundTruth with { TotalTimesteps = 4_000L * scale, Dqn = groundTruth.Dqn! with { GradientSteps = groundTruth.Dqn.GradientSteps / 8 } };
        var clip = RunConfigLoader.LoadFile("cartpole-dqn-clip-quick");
        clip = clip with
        {
            TotalTimesteps = 2_000L * scale, Dqn = clip.Dqn! with { GradientSteps = clip.Dqn.GradientSteps / 8 },
            // B under the reward grains' 256 frames per model call, so batches of runs on one silo can merge.
            Reward = clip.Reward with { BatchSize = 100, FrameWidth = 64, FrameHeight = 64 },
        };
        return [.. Enumerable.Range(0, 4).Select(seed => ($"many.gt.s{seed}", groundTruth with { Seed = seed })),
            .. Enumerable.Range(0, 4).Select(seed => ($"many.clip.s{seed}", clip with { Seed = seed }))];
    }

    private async Task<Outcome> RunAsync(int silos, List<(string Id, RunConfig Config)> runs, CancellationToken ct)
    {
        var (redis, _, started) = LocalServices.StartRedisCluster(_processes, silos, $"--Clip:ModelsDirectory={Path.Combine(TestPaths.RepositoryRoot, "models")}");
        try
        {
            using var host = await LocalServices.RedisClientAsync(redis, ct);
            var client = host.Services.GetRequiredService<IClusterClient>();
            Assert.Equal(silos, await LocalServices.ActiveSilosAsync(client, silos));
            var sweep = client.GetGrain<ISweepGrain>($"many-{silos}");
            var clock = Stopwatch.StartNew();
            var status = await sweep.SubmitAsync([.. runs.Select(r => new RunRequest(r.Id, RunConfigLoader.ToJson(r.Config), $"many-{silos}"))], runs.Count);
            var submitSeconds = clock.Elapsed.TotalSeconds;
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (!status.IsFinished && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
                status = await sweep.GetStatusAsync();
            }
            clock.Stop();
            Assert.All(status.Runs, r => Assert.True(r.State == RunState.Done, $"{silos} silo(s): {r.RunId} is {r.State} at {r.Timesteps}: {r.Error}"));
            using var http = new HttpClient();
            var perSilo = new List<SiloFigures>();
            foreach (var silo in started)
            {
                JsonElement json;
                try
                {
                    json = await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{silo.DashboardPort}/vlmrm/runs.json"), ct);
                }
                catch (HttpRequestException e)
                {
                    throw new InvalidOperationException(
                        $"{silos} silo(s): the dashboard of the silo on port {silo.SiloPort} (http port {silo.DashboardPort}) did not answer; its process {(silo.Process.HasExited ? $"exited with {silo.Process.ExitCode}" : "is running")}.", e);
                }
                var figures = json.GetProperty("silo");
                double? Optional(string name) => figures.GetProperty(name).ValueKind == JsonValueKind.Number ? figures.GetProperty(name).GetDouble() : null;
                perSilo.Add(new SiloFigures(silo.SiloPort, figures.GetProperty("environmentSteps").GetInt64(), figures.GetProperty("clipCalls").GetInt64(),
                    figures.GetProperty("clipFrames").GetInt64(), figures.GetProperty("clipSeconds").GetDouble(), figures.GetProperty("frameBytesAcrossSilos").GetInt64(),
                    Optional("clipFill"), Optional("clipRequestsPerCall"), status.Runs.Count(r => r.Silo?.Contains($":{silo.SiloPort}:", StringComparison.Ordinal) == true)));
            }
            await host.StopAsync(ct);
            return new Outcome(silos, clock.Elapsed.TotalSeconds, submitSeconds, status.Runs.Sum(r => r.Timesteps), perSilo);
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var process in Enumerable.Reverse(_processes)) LocalServices.Stop(process);
        _processes.Clear();
    }
}
