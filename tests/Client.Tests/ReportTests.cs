using System.Text.Json;
using VlmRm.TestSupport;

namespace VlmRm.Client.Tests;

/// <summary>`vlmrm report`: a sweep's HTML report, made after `vlmrm run` as a user would, opened from disk in headless chromium.</summary>
public class ReportTests
{
    [Fact]
    public async Task A_sweeps_report_opens_from_disk_with_its_runs_curves_epic_figures_and_videos()
    {
        Assert.SkipWhen(HeadlessChromium.Executable is null, HeadlessChromium.Missing);
        var cancellationToken = TestContext.Current.CancellationToken;
        var folder = Directory.CreateTempSubdirectory("vlmrm-report-").FullName;
        var sweep = Path.Combine(folder, "report-test.yaml");
        File.WriteAllText(sweep, """
            name: report-test
            tasks:
              - name: cartpole-gt
                preset: cartpole-dqn-quick
              - name: cartpole-clip
                preset: cartpole-dqn-clip-quick
            seeds: [0]
            total_timesteps: 3000
            checkpoint_interval: 1000
            """);
        var data = Path.Combine(folder, "cluster");
        var output = Path.Combine(folder, "report");
        // The estimate first, as a researcher paying for the runs would; the report sets it beside what the runs took.
        var plan = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(2), "plan", sweep, "--json", Path.Combine(output, "plan.json"));
        Assert.True(plan.ExitCode == 0, $"plan: exit {plan.ExitCode}\n{string.Join('\n', plan.Lines)}\n{plan.Errors}");
        Assert.Contains(plan.Lines, l => l.StartsWith("Sweep report-test: 2 runs", StringComparison.Ordinal));
        using (var planned = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "plan.json"))))
        {
            Assert.Equal(["report-test.cartpole-gt.gt.s0", "report-test.cartpole-clip.VlmRm-S-32_envs-v4-plateau.a0.s0"],
                planned.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run_id").GetString()));
        }
        var run = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(5), "run", sweep, "--data", data, "--quiet");
        Assert.True(run.ExitCode == 0, $"run: exit {run.ExitCode}\n{string.Join('\n', run.Lines)}\n{run.Errors}");
        var report = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(5), "report", sweep, "--data", data, "--out", output, "--episodes", "2", "--states", "120");
        Assert.True(report.ExitCode == 0, $"report: exit {report.ExitCode}\n{string.Join('\n', report.Lines)}\n{report.Errors}");
        var index = Path.Combine(output, "index.html");
        Assert.True(File.Exists(index), string.Join('\n', report.Lines));

        await using (var browser = await HeadlessChromium.StartAsync(cancellationToken))
        {
            async Task<JsonElement> Eval(string expression) => await browser.EvaluateAsync(expression, cancellationToken);
            await browser.SetViewportAsync(1280, 800, cancellationToken);
            await browser.NavigateAsync(new Uri(index).AbsoluteUri, cancellationToken);
            await browser.WaitForAsync("[...document.images].every(i => i.complete)", cancellationToken);

            Assert.Equal("report-test", (await Eval("document.querySelector('#sweep-name').textContent")).GetString());
            Assert.Equal(["report-test.cartpole-gt.gt.s0", "report-test.cartpole-clip.VlmRm-S-32_envs-v4-plateau.a0.s0"],
                (await Eval("[...document.querySelectorAll('#runs tr[data-run]')].map(r => r.dataset.run)")).EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(2, (await Eval("[...document.querySelectorAll('#runs tr[data-run] td.done')].length")).GetInt32());
            // Every figure loaded (EvaluationPlots.Width, 1000 px): three curves per task, and the CLIP task's landscape and histogram.
            Assert.Equal(6, (await Eval("document.querySelectorAll('.curves img').length")).GetInt32());
            Assert.Equal(2, (await Eval("document.querySelectorAll('.epic-figures img').length")).GetInt32());
            Assert.True((await Eval("[...document.images].every(i => i.naturalWidth === 1000)")).GetBoolean(), "a figure did not load");
            // EPIC per α (the run's 0, plus 0.5 and 1) on the paper's CartPole prompts.
            Assert.Equal(3, (await Eval("document.querySelectorAll('table.epic tr').length - 1")).GetInt32());
            Assert.Contains("pole vertically upright on top of the cart", (await Eval("document.body.textContent")).GetString());
            // Each run's selected checkpoint judged on the ground truth, with a video that plays from disk.
            Assert.Equal(2, (await Eval("document.querySelectorAll('#runs video').length")).GetInt32());
            await browser.WaitForAsync("[...document.querySelectorAll('#runs video')].every(v => v.readyState >= 1 && v.videoWidth === 256)", cancellationToken);
            Assert.Matches(@"^\d/2 \(mean return", (await Eval("document.querySelector('#runs tr[data-run] td:nth-child(12)').textContent")).GetString());

            // Planned and measured cost side by side, for both runs.
            Assert.Equal(2, (await Eval("document.querySelectorAll('#cost tr[data-run]').length")).GetInt32());
            Assert.Matches(@"^\d+\.\d\d×$", (await Eval("document.querySelector('#cost tr[data-run] td:nth-child(4)').textContent")).GetString());

            var screenshot = await browser.ScreenshotAsync(cancellationToken, wholePage: false);
            File.WriteAllBytes(Path.Combine(TestPaths.ArtifactsDirectory("client"), "sweep-report.png"), screenshot);
            File.WriteAllBytes(Path.Combine(TestPaths.ArtifactsDirectory("client"), "sweep-report-full.png"), await browser.ScreenshotAsync(cancellationToken));
        }
        Directory.Delete(folder, recursive: true);
    }
}
