using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using VlmRm.Envs.Hosting;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.Evaluation.Rollouts;

namespace VlmRm.Evaluation.Web;

public sealed record LabelServerOptions
{
    /// <summary>A review set recorded by <c>vlmrm evaluate videos</c>.</summary>
    public required string ReviewDirectory { get; init; }

    /// <summary>Loopback by default: the page has no authentication, so exposing it is a deliberate choice (<see cref="AllowRemote"/>).</summary>
    public string Url { get; init; } = "http://127.0.0.1:5080";

    /// <summary>Permits a <see cref="Url"/> beyond loopback.</summary>
    public bool AllowRemote { get; init; }
}

/// <summary>
/// The labelling page over a <see cref="HumanLabelStore"/>: GET / (the page), GET /api/review, POST /api/labels,
/// GET /api/summary, GET /api/agreement (labels side by side, disagreements), GET /api/export.csv, and the review
/// set's videos and frames under /media.
/// </summary>
public static class LabelServer
{
    private static readonly JsonSerializerOptions Json = new(LabelledSet.Json) { WriteIndented = false };

    public static WebApplication Build(LabelServerOptions options, Action<ILoggingBuilder>? logging = null)
    {
        LoopbackBinding.Require(options.Url, "--url", options.AllowRemote, "--allow-remote");
        var store = new HumanLabelStore(options.ReviewDirectory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Url);
        builder.Services.AddSingleton(store);
        if (logging is not null) logging(builder.Logging);
        var app = builder.Build();

        var page = ReadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/api/review", () =>
        {
            var labels = store.Labels;
            return Results.Json(new
            {
                store.Set.Env,
                store.Set.Task,
                store.Set.RunId,
                store.Set.Checkpoint,
                store.Set.CheckpointTimesteps,
                store.Set.FrameStride,
                store.Set.FrameWidth,
                store.Set.FrameHeight,
                store.Set.FramesPerSecond,
                store.Set.RewardModel,
                Episodes = store.Set.Episodes.Select(e => new
                {
                    e.Id,
                    Video = "/media/" + e.Video,
                    Frames = e.Frames.Select(f => "/media/" + f),
                    e.Steps,
                    e.Length,
                    Token = store.TokenFor(e.Id),
                    LabelledBy = labels.Where(l => l.Episode == e.Id).Select(l => l.Labeller),
                }),
            }, Json);
        });
        app.MapPost("/api/labels", async (HttpRequest request) =>
        {
            HumanLabelSubmission? submission;
            try
            {
                submission = await request.ReadFromJsonAsync<HumanLabelSubmission>(Json);
            }
            catch (JsonException e)
            {
                return Results.Json(new { Error = $"The submission is not valid JSON of the expected shape: {e.Message}" }, Json, statusCode: StatusCodes.Status400BadRequest);
            }
            if (submission is null) return Results.Json(new { Error = "Empty submission." }, Json, statusCode: StatusCodes.Status400BadRequest);
            try
            {
                var label = store.Submit(submission);
                return Results.Json(label, Json);
            }
            catch (LabelRejectedException e)
            {
                return Results.Json(new { Error = e.Message }, Json, statusCode: e.IsConflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest);
            }
        });
        app.MapGet("/api/summary", () => Results.Json(store.Summarize(), Json));
        app.MapGet("/api/agreement", () => Results.Json(store.Agreement(), Json));
        app.MapGet("/api/export.csv", () => Results.Text(store.ExportCsv(), "text/csv; charset=utf-8"));
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(store.Directory, Microsoft.Extensions.FileProviders.Physical.ExclusionFilters.Sensitive),
            RequestPath = "/media",
        });
        return app;
    }

    private static string ReadPage()
    {
        using var stream = typeof(LabelServer).Assembly.GetManifestResourceStream("label-page.html") ?? throw new InvalidOperationException("The label page is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
