using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.LabelledSets;
using VlmRm.Evaluation.Rollouts;
using VlmRm.Evaluation.Web;
using VlmRm.Rl;
using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Checkpoints;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;
using VlmRm.TestSupport;

namespace VlmRm.Evaluation.Tests;

/// <summary>A short CartPole run's best checkpoint recorded as MP4s, labelled on the web page in a real headless chromium.</summary>
public sealed class ReviewPageTests
{
    private const int Episodes = 2;
    private const int Stride = 20; // 200-step episodes → 10 frames to label each

    private static readonly RunConfig Config = new()
    {
        Env = "CartPole", Algorithm = "dqn", TotalTimesteps = 600, CheckpointInterval = 200, EpisodeLength = 200, TorchThreads = 1,
        Dqn = new DqnOptions { LearningStarts = 100, BufferSize = 1000, BatchSize = 32, NetArch = [32, 32] },
    };

    private static async Task<string> RecordReviewSetAsync(CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-review-").FullName;
        var config = Config;
        var store = new FileCheckpointStore(Path.Combine(root, "checkpoints"));
        using (var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller(), "cartpole-review", store))
        {
            await trainer.RunAsync(cancellationToken: cancellationToken);
        }
        var review = Path.Combine(root, "review");
        var set = await RolloutRecorder.RecordAsync(config, "cartpole-review", store, review,
            new RolloutOptions { Episodes = Episodes, FrameWidth = 64, FrameHeight = 64, FrameStride = Stride, Task = "pole upright" }, cancellationToken: cancellationToken);
        var best = await store.LoadBestAsync("cartpole-review", cancellationToken);
        Assert.Equal(best!.Info.Name, set.Checkpoint);
        return review;
    }

    [Fact]
    public async Task Best_checkpoint_rollouts_become_mp4s_and_frames_to_label()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var review = await RecordReviewSetAsync(cancellationToken);
        var set = ReviewSet.Load(review);
        Assert.Equal(Episodes, set.Episodes.Count);
        foreach (var episode in set.Episodes)
        {
            Assert.Equal(200, episode.Length);
            Assert.Equal(10, episode.Frames.Count);
            Assert.Equal(Enumerable.Range(0, 10).Select(i => i * Stride), episode.Steps);
            Assert.Equal(200, CountVideoFrames(Path.Combine(review, episode.Video)));
            var frame = Png.Read(Path.Combine(review, episode.Frames[0]));
            Assert.Equal((64, 64), (frame.Width, frame.Height));
        }
        File.Copy(Path.Combine(review, set.Episodes[0].Video), Path.Combine(TestPaths.ArtifactsDirectory("evaluation"), "cartpole-rollout.mp4"), overwrite: true);

        // Appendix B's labelled set: rollouts of every checkpoint of the run, one episode each, predicate labels.
        var store = new FileCheckpointStore(Path.Combine(review, "..", "checkpoints"));
        var checkpoints = await store.ListAsync("cartpole-review", cancellationToken);
        var labelled = await SetGenerators.CheckpointRollouts(Config, "cartpole-review", store, Path.Combine(review, "..", "rollout-set"), 1, 32, pose: null, cancellationToken: cancellationToken);
        Assert.Equal(checkpoints.Count * 200, labelled.Count);
        Assert.All(labelled.Frames, f => Assert.Equal("predicate:CartPole-success", f.Labeller));
        Assert.Equal(labelled.Labels(), LabelledSet.Load(labelled.Directory).Labels());
    }

    [Fact]
    public async Task A_person_labels_an_episode_in_chromium_and_the_stored_labels_and_success_rate_are_right()
    {
        Assert.SkipWhen(HeadlessChromium.Executable is null, HeadlessChromium.Missing);
        var cancellationToken = TestContext.Current.CancellationToken;
        var review = await RecordReviewSetAsync(cancellationToken);
        await using var app = LabelServer.Build(new LabelServerOptions { ReviewDirectory = review, Url = "http://127.0.0.1:0" });
        await app.StartAsync(cancellationToken);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        await using (var browser = await HeadlessChromium.StartAsync(cancellationToken))
        {
            await browser.NavigateAsync(url, cancellationToken);
            await browser.WaitForAsync("document.querySelectorAll('#episode-ep-000 .frame').length === 10 && document.querySelector('#summary').textContent.includes('episodes labelled')", cancellationToken);
            await browser.WaitForAsync("[...document.images].every(i => i.complete && i.naturalWidth === 64)", cancellationToken);
            // Goal in 6 of 10 frames of episode 0 (a success), 2 of 10 in episode 1 (a failure).
            await browser.EvaluateAsync("document.querySelector('#labeller').value = 'Ada Lovelace'", cancellationToken);
            await browser.EvaluateAsync("[0, 1, 2, 3, 4, 5].forEach(i => document.querySelectorAll('#episode-ep-000 .frame')[i].click())", cancellationToken);
            await browser.EvaluateAsync("document.querySelector('#episode-ep-000 .submit').click()", cancellationToken);
            await browser.WaitForAsync("document.querySelector('#episode-ep-000 .status').textContent.startsWith('Saved')", cancellationToken);
            await browser.EvaluateAsync("[8, 9].forEach(i => document.querySelectorAll('#episode-ep-001 .frame')[i].click())", cancellationToken);
            await browser.EvaluateAsync("document.querySelector('#episode-ep-001 .submit').click()", cancellationToken);
            await browser.WaitForAsync("document.querySelector('#episode-ep-001 .status').textContent.startsWith('Saved')", cancellationToken);
            await browser.WaitForAsync("document.querySelector('#summary').textContent.includes('2 of 2 episodes labelled · success rate 50%')", cancellationToken);
            Assert.Contains("60%", (await browser.EvaluateAsync("document.querySelector('#episode-ep-000 .status').textContent", cancellationToken)).GetString(), StringComparison.Ordinal);

            // Submitting episode 0 again from the page is refused with the reason shown.
            await browser.EvaluateAsync("document.querySelector('#episode-ep-000 .submit').click()", cancellationToken);
            await browser.WaitForAsync("document.querySelector('#episode-ep-000 .status').classList.contains('error')", cancellationToken);
            Assert.Contains("already labelled", (await browser.EvaluateAsync("document.querySelector('#episode-ep-000 .status').textContent", cancellationToken)).GetString(), StringComparison.Ordinal);

            var screenshot = await browser.ScreenshotAsync(cancellationToken);
            var image = Png.Decode(screenshot);
            Assert.True(image.Width >= 1000 && image.Height >= 600);
            File.WriteAllBytes(Path.Combine(TestPaths.ArtifactsDirectory("evaluation"), "label-page.png"), screenshot);
        }

        var labels = File.ReadAllLines(Path.Combine(review, HumanLabelStore.LabelsFile));
        Assert.Equal(2, labels.Length);
        var stored = new HumanLabelStore(review).Labels;
        Assert.Equal([true, true, true, true, true, true, false, false, false, false], stored.Single(l => l.Episode == "ep-000").Frames);
        Assert.All(stored, l => Assert.Equal("Ada Lovelace", l.Labeller));
        Assert.Equal(0.6, stored.Single(l => l.Episode == "ep-000").GoalFraction, 9);
        Assert.True(stored.Single(l => l.Episode == "ep-000").Success);
        Assert.False(stored.Single(l => l.Episode == "ep-001").Success);
        Assert.Equal(0.5, new HumanLabelStore(review).Summarize().SuccessRate);

        var exported = new HumanLabelStore(review).ExportLabelledSet(Path.Combine(review, "..", "human-set"));
        Assert.Equal(20, exported.Count);
        Assert.Equal(8, exported.GoalCount);
        Assert.All(exported.Frames, f => Assert.Equal("human:Ada Lovelace", f.Labeller));
    }

    [Fact]
    public async Task Tampered_duplicate_and_malformed_submissions_are_refused_with_a_clear_message()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var review = await RecordReviewSetAsync(cancellationToken);
        await using var app = LabelServer.Build(new LabelServerOptions { ReviewDirectory = review, Url = "http://127.0.0.1:0" });
        await app.StartAsync(cancellationToken);
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        var page = await http.GetFromJsonAsync<JsonElement>("/api/review", cancellationToken);
        var token = page.GetProperty("episodes")[0].GetProperty("token").GetString()!;
        var otherToken = page.GetProperty("episodes")[1].GetProperty("token").GetString()!;
        var frames = new int[10];

        async Task<(HttpStatusCode Status, string Body)> Post(object body)
        {
            using var response = await http.PostAsJsonAsync("/api/labels", body, cancellationToken);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        var swapped = await Post(new { episode = "ep-000", labeller = "Bob", frames, token = otherToken });
        Assert.Equal(HttpStatusCode.BadRequest, swapped.Status);
        Assert.Contains("bad token", swapped.Body, StringComparison.Ordinal);
        var shortened = await Post(new { episode = "ep-000", labeller = "Bob", frames = new int[9], token });
        Assert.Equal(HttpStatusCode.BadRequest, shortened.Status);
        Assert.Contains("has 10 frames to label; the submission has 9", shortened.Body, StringComparison.Ordinal);
        var badValue = await Post(new { episode = "ep-000", labeller = "Bob", frames = Enumerable.Range(0, 10).ToArray(), token });
        Assert.Equal(HttpStatusCode.BadRequest, badValue.Status);
        var anonymous = await Post(new { episode = "ep-000", labeller = " ", frames, token });
        Assert.Contains("Enter your name", anonymous.Body, StringComparison.Ordinal);
        using (var garbage = await http.PostAsync("/api/labels", new StringContent("{\"episode\": [", System.Text.Encoding.UTF8, "application/json"), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        }
        Assert.False(File.Exists(Path.Combine(review, HumanLabelStore.LabelsFile)), "a refused submission must not write labels");

        Assert.Equal(HttpStatusCode.OK, (await Post(new { episode = "ep-000", labeller = "Bob", frames, token })).Status);
        var duplicate = await Post(new { episode = "ep-000", labeller = "bob", frames, token });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Contains("already labelled", duplicate.Body, StringComparison.Ordinal);

        using var key = await http.GetAsync("/media/" + HumanLabelStore.KeyFile, cancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, key.StatusCode);
        using var video = await http.GetAsync("/media/episodes/ep-000.mp4", cancellationToken);
        Assert.Equal("video/mp4", video.Content.Headers.ContentType?.MediaType);
        var csv = await http.GetStringAsync("/api/export.csv", cancellationToken);
        Assert.Equal(11, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var summary = await http.GetFromJsonAsync<JsonElement>("/api/summary", cancellationToken);
        Assert.Equal(0, summary.GetProperty("success_rate").GetDouble());
        Assert.Contains("without a reward model", summary.GetProperty("epic_note").GetString(), StringComparison.Ordinal);
    }

    private static int CountVideoFrames(string path)
    {
        var start = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path }) start.ArgumentList.Add(arg);
        using var probe = Process.Start(start)!;
        var output = probe.StandardOutput.ReadToEnd();
        probe.WaitForExit();
        return int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
