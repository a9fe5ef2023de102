using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using VlmRm.Abstractions;

namespace VlmRm.Grains;

/// <summary>
/// What a silo serves over HTTP, the same for the standalone silo and the CLI's embedded one: the Orleans dashboard
/// (grain and silo statistics) at /dashboard, VlmRm's runs page at /vlmrm (every sweep's runs with their progress,
/// returns and success, and this silo's CLIP batch fill), its data at /vlmrm/runs.json, and /healthz.
/// </summary>
public static class SiloPages
{
    public static IServiceCollection AddVlmRmPages(this IServiceCollection services) => services.AddSingleton<SiloActivity>();

    public static WebApplication MapVlmRmPages(this WebApplication app)
    {
        // Listening from the start: a singleton made at the first page request would miss everything before it.
        app.Services.GetRequiredService<SiloActivity>();
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        // ?refresh=0 holds the page still (it reloads every 2 s otherwise), for reading it closely or from a script.
        app.MapGet("/vlmrm", async (IGrainFactory grains, SiloActivity activity, IOptions<RewardBatchingOptions> batching, string? refresh) =>
            Results.Content(Render(await SweepsAsync(grains), activity, batching.Value.MaxBatchFrames, refresh != "0"), "text/html; charset=utf-8"));
        app.MapGet("/vlmrm/runs.json", async (IGrainFactory grains, SiloActivity activity, IOptions<RewardBatchingOptions> batching) =>
        {
            var sweeps = await SweepsAsync(grains);
            return Results.Json(new
            {
                Sweeps = sweeps.Select(s => new { s.Name, Runs = s.Runs.Select(r => new { r.RunId, State = r.State.ToString(), r.Timesteps, r.TotalTimesteps, r.Silo, r.Resumes }) }),
                Silo = new
                {
                    activity.EnvironmentSteps, activity.ClipCalls, activity.ClipFrames, activity.ClipSeconds, activity.FrameBytesAcrossSilos,
                    ClipFill = Finite(activity.ClipFill(batching.Value.MaxBatchFrames)), ClipRequestsPerCall = Finite(activity.ClipRequestsPerCall),
                },
            });
        });
        app.MapGet("/healthz", () => Results.Ok("ok"));
        return app;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static async Task<List<SweepStatus>> SweepsAsync(IGrainFactory grains)
    {
        var names = await grains.GetGrain<ISweepIndexGrain>(ISweepIndexGrain.Key).GetSweepsAsync();
        var sweeps = new List<SweepStatus>();
        foreach (var name in names) sweeps.Add(await grains.GetGrain<ISweepGrain>(name).GetStatusAsync());
        return sweeps;
    }

    private static string Render(List<SweepStatus> sweeps, SiloActivity activity, int maxBatchFrames, bool refresh)
    {
        static string H(string? text) => WebUtility.HtmlEncode(text ?? "");
        static string N(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "–";
        var page = new StringBuilder();
        page.Append("""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>VlmRm runs</title>
            <style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:24px}
            th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}
            progress{width:140px}.failed{color:#b00}.done{color:#070}</style></head><body>
            <h1>VlmRm runs</h1>
            """);
        if (refresh) page.Append("""<meta http-equiv="refresh" content="2">""");
        var holding = refresh ? "refreshes every 2 s (<a href='?refresh=0'>hold still</a>)" : "held still (<a href='?'>refresh every 2 s</a>)";
        page.Append("<p><a href='/dashboard/'>Orleans dashboard</a> (grains, silos, calls) · <a href='/vlmrm/runs.json'>runs.json</a> · ").Append(holding).Append("</p>");
        var fill = activity.ClipFill(maxBatchFrames);
        page.Append(CultureInfo.InvariantCulture, $"<p id=\"clip\">CLIP on this silo: {activity.ClipCalls:N0} model calls, {activity.ClipFrames:N0} frames in {activity.ClipSeconds:F1} s; batch fill {(double.IsFinite(fill) ? fill.ToString("P0", CultureInfo.InvariantCulture) : "–")} of {maxBatchFrames} frames per call; {N(activity.ClipRequestsPerCall, "F1")} labelling requests per call. ");
        page.Append(CultureInfo.InvariantCulture, $"Environment steps here: {activity.EnvironmentSteps:N0}; frames sent to another silo's reward grain: {activity.FrameBytesAcrossSilos / 1e6:F1} MB.</p>");
        if (sweeps.Count == 0) page.Append("<p>No sweeps yet: <code>vlmrm run sweeps/cartpole-ground-truth.yaml</code> starts one.</p>");
        foreach (var sweep in sweeps)
        {
            page.Append(CultureInfo.InvariantCulture, $"<h2>{H(sweep.Name)}</h2><table><tr><th>run</th><th>state</th><th>progress</th><th>steps</th><th>steps/s</th><th>ground-truth return</th><th>success</th><th>training (labelled) return</th><th>silo</th><th>resumes</th></tr>");
            foreach (var run in sweep.Runs)
            {
                var state = run.State.ToString().ToLowerInvariant();
                page.Append(CultureInfo.InvariantCulture, $"<tr class=\"run {state}\"><td>{H(run.RunId)}</td><td>{state}{(run.Error is null ? "" : $": {H(run.Error)}")}</td>");
                page.Append(CultureInfo.InvariantCulture, $"<td><progress value=\"{run.Timesteps}\" max=\"{Math.Max(1, run.TotalTimesteps)}\"></progress></td><td>{run.Timesteps:N0} / {run.TotalTimesteps:N0}</td>");
                page.Append(CultureInfo.InvariantCulture, $"<td>{N(run.StepsPerSecond, "N0")}</td><td>{N(run.MeanGroundTruthReturn, "F1")}</td><td>{N(run.SuccessRate, "P0")}</td><td>{N(run.MeanLabelledReturn, "F2")}</td><td>{H(run.Silo)}</td><td>{run.Resumes}</td></tr>");
            }
            page.Append("</table>");
        }
        page.Append("</body></html>");
        return page.ToString();
    }
}
