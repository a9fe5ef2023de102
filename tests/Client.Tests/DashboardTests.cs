using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using VlmRm.TestSupport;

namespace VlmRm.Client.Tests;

/// <summary>
/// The dashboard everywhere, checked in a real headless Chromium: the CLI's embedded cluster serves the Orleans
/// dashboard and VlmRm's runs page on loopback and prints their address; a client joins a standalone silo by its
/// gateway address with no Redis, and the silo's pages show that client's run. Screenshots go to artifacts/test-output/client.
/// </summary>
public sealed partial class DashboardTests : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("vlmrm-dashboard-").FullName;

    private static string Sweep(string name, long steps) =>
        $"name: {name}\ntasks:\n  - name: cartpole\n    preset: cartpole-dqn-quick\nseeds: [0]\nlabeller: ground_truth\ntotal_timesteps: {steps}\n";

    [Fact]
    public async Task The_embedded_cluster_serves_the_dashboard_and_the_runs_page_and_prints_where()
    {
        Assert.SkipWhen(HeadlessChromium.Executable is null, HeadlessChromium.Missing);
        var ct = TestContext.Current.CancellationToken;
        File.WriteAllText(Path.Combine(_folder, "sweep.yaml"), Sweep("embedded", 1_000_000)); // runs until the test stops it
        var (cli, lines) = Start(CliProcess.Executable, ["run", "sweep.yaml"]);
        var printed = await LineAsync(lines, DashboardLine(), cli, ct);
        var address = printed.Groups[1].Value;
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", address);

        await using var browser = await HeadlessChromium.StartAsync(ct);
        await browser.SetViewportAsync(1280, 800, ct);
        var runs = await RunsPageAsync(browser, address, "embedded.cartpole.gt.s0", "embedded-runs-page.png", ct, untilSteps: 1);
        Assert.Equal("running", runs.State);
        var activations = await DashboardAsync(browser, address, "embedded-dashboard.png", ct);
        Assert.True(activations >= 4, $"the dashboard counts {activations} activations (sweep, learner, environment at least)");
    }

    [Fact]
    public async Task A_client_joins_a_standalone_silo_by_its_gateway_and_the_silos_pages_show_its_run()
    {
        Assert.SkipWhen(HeadlessChromium.Executable is null, HeadlessChromium.Missing);
        var ct = TestContext.Current.CancellationToken;
        var (gateway, siloPort, web) = (LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free());
        var (silo, siloLines) = Start("dotnet", [CliProcess.SiloDll, $"--Silo:GatewayPort={gateway}", $"--Silo:SiloPort={siloPort}",
            $"--Dashboard:Urls=http://127.0.0.1:{web}", $"--VlmRm:DataDirectory={Path.Combine(_folder, "silo")}"]);
        await HealthyAsync($"http://127.0.0.1:{web}/healthz", silo, siloLines, ct);

        File.WriteAllText(Path.Combine(_folder, "sweep.yaml"), Sweep("joined", 3_000));
        var result = await CliProcess.RunAsync(_folder, TimeSpan.FromMinutes(3), "run", "sweep.yaml", "--gateway", $"127.0.0.1:{gateway}");
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {string.Join("\n", result.Lines)}\n{result.Errors}");
        Assert.Contains(result.Lines, l => l.Contains($"on the silo at 127.0.0.1:{gateway}", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("Dashboard:", StringComparison.Ordinal)); // the silo serves it, not the client
        Assert.False(Directory.Exists(Path.Combine(_folder, "runs")), "the client kept state of its own instead of using the silo's");

        await using var browser = await HeadlessChromium.StartAsync(ct);
        await browser.SetViewportAsync(1280, 800, ct);
        var runs = await RunsPageAsync(browser, $"http://127.0.0.1:{web}", "joined.cartpole.gt.s0", "standalone-runs-page.png", ct);
        Assert.Equal(("done", 3_000L), (runs.State, runs.Steps));
        var activations = await DashboardAsync(browser, $"http://127.0.0.1:{web}", "standalone-dashboard.png", ct);
        Assert.True(activations >= 3, $"the dashboard counts {activations} activations");
    }

    /// <summary>The runs page's row for <paramref name="run"/>, as the browser shows it once the run has <paramref name="untilSteps"/> steps.</summary>
    private static async Task<(string State, long Steps)> RunsPageAsync(HeadlessChromium browser, string address, string run, string screenshot, CancellationToken ct, long untilSteps = 0)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        JsonElement row;
        while (true)
        {
            // Held still (?refresh=0): the page's own 2 s reload would pull the document away from under the script.
            await browser.NavigateAsync($"{address}/vlmrm?refresh=0", ct);
            row = await browser.EvaluateAsync(
                $"(() => {{ const tr = [...document.querySelectorAll('tr.run')].find(r => r.cells[0].textContent === '{run}'); " +
                "return tr ? { state: tr.cells[1].textContent, steps: tr.querySelector('progress').value, clip: document.getElementById('clip').textContent } : null; })()", ct);
            if (row.ValueKind == JsonValueKind.Object && row.GetProperty("steps").GetDouble() >= untilSteps) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the runs page never showed {run} at {untilSteps} steps: {await browser.EvaluateAsync("document.body.innerText", ct)}");
            await Task.Delay(1_000, ct);
        }
        File.WriteAllBytes(Path.Combine(TestPaths.ArtifactsDirectory("client"), screenshot), await browser.ScreenshotAsync(ct, wholePage: false));
        Assert.StartsWith("CLIP on this silo:", row.GetProperty("clip").GetString());
        return (row.GetProperty("state").GetString()!, (long)row.GetProperty("steps").GetDouble());
    }

    /// <summary>The Orleans dashboard's "Total Activations" once its first counters have come in.</summary>
    private static async Task<int> DashboardAsync(HeadlessChromium browser, string address, string screenshot, CancellationToken ct)
    {
        await browser.NavigateAsync($"{address}/dashboard/", ct);
        const string activations = "(document.body.innerText.match(/Total Activations\\s+(\\d+)/i) || [])[1]";
        try
        {
            await browser.WaitForAsync($"{activations} && /Active Silos/i.test(document.body.innerText)", ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; the page reads: {await browser.EvaluateAsync("document.body.innerText", ct)}", e);
        }
        var count = await browser.EvaluateAsync($"Number({activations})", ct);
        File.WriteAllBytes(Path.Combine(TestPaths.ArtifactsDirectory("client"), screenshot), await browser.ScreenshotAsync(ct, wholePage: false));
        return count.GetInt32();
    }

    private (Process Process, ConcurrentQueue<string> Lines) Start(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = _folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        _processes.Add(process);
        var lines = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, lines);
    }

    private static async Task<Match> LineAsync(ConcurrentQueue<string> lines, Regex pattern, Process process, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            if (lines.Select(l => pattern.Match(l)).FirstOrDefault(m => m.Success) is { } match) return match;
            if (process.HasExited || DateTime.UtcNow > deadline) throw new TimeoutException($"no line matching {pattern} (exited: {process.HasExited}):\n{string.Join("\n", lines)}");
            await Task.Delay(100, ct);
        }
    }

    private static async Task HealthyAsync(string url, Process process, ConcurrentQueue<string> lines, CancellationToken ct)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url), ct)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited || DateTime.UtcNow > deadline) throw new TimeoutException($"the silo never answered {url} (exited: {process.HasExited}):\n{string.Join("\n", lines)}");
            await Task.Delay(250, ct);
        }
    }

    [GeneratedRegex(@"^Dashboard: (http://\S+)/dashboard/ · runs: \S+/vlmrm$")]
    private static partial Regex DashboardLine();

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
        }
    }
}
