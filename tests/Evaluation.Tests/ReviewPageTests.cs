using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using VlmRm.Clip.Reward;
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
        Env = "CartPole", Algorithm = AlgorithmKind.Dqn, TotalTimesteps = 600, CheckpointInterval = 200, EpisodeLength = 200, TorchThreads = 1,
        Dqn = new DqnOptions { LearningStarts = 100, BufferSize = 1000, BatchSize = 32, NetArch = [32, 32] },
    };

    /// <param name="withClip">Record each labelled frame's CLIP reward from the shipped model, as <c>evaluate videos --model</c> does.</param>
    private static async Task<string> RecordReviewSetAsync(CancellationToken cancellationToken, bool withClip = false)
    {
        var root = Directory.CreateTempSubdirectory("vlmrm-review-").FullName;
        var config = Config;
        var store = new FileCheckpointStore(Path.Combine(root, "checkpoints"));
        using (var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller(), "cartpole-review", store))
        {
            await trainer.RunAsync(cancellationToken: cancellationToken);
        }
        var review = Path.Combine(root, "review");
        using var model = withClip ? ShippedClip.Load() : null;
        var rewardModel = model is null ? null : new ClipRewardModel(model, PaperPrompts.CartPole, 0);
        var set = await RolloutRecorder.RecordAsync(config, "cartpole-review", store, review,
            new RolloutOptions { Episodes = Episodes, FrameWidth = 64, FrameHeight = 64, FrameStride = Stride, Task = "pole upright" }, rewardModel, cancellationToken: cancellationToken);
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

    /// <summary>
    /// An afternoon's labelling in miniature, from the keyboard only, in a 1280×800 window: the page must show what each
    /// key did (not only answer over HTTP). Two people label; their disagreement and CLIP's show on the page.
    /// </summary>
    [Fact]
    public async Task People_label_episodes_from_the_keyboard_in_chromium_and_the_page_shows_each_step()
    {
        Assert.SkipWhen(HeadlessChromium.Executable is null, HeadlessChromium.Missing);
        var cancellationToken = TestContext.Current.CancellationToken;
        var review = await RecordReviewSetAsync(cancellationToken, withClip: true);
        await using var app = LabelServer.Build(new LabelServerOptions { ReviewDirectory = review, Url = "http://127.0.0.1:0" });
        await app.StartAsync(cancellationToken);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var artifacts = TestPaths.ArtifactsDirectory("evaluation");

        await using (var browser = await HeadlessChromium.StartAsync(cancellationToken))
        {
            async Task<string> Text(string selector) => (await browser.EvaluateAsync($"document.querySelector({JsonSerializer.Serialize(selector)}).textContent", cancellationToken)).GetString()!;
            async Task Press(params string[] keys)
            {
                foreach (var key in keys) await browser.PressAsync(key, cancellationToken);
            }
            async Task Screenshot(string name)
            {
                var png = await browser.ScreenshotAsync(cancellationToken, wholePage: false);
                var image = Png.Decode(png);
                Assert.Equal((1280, 800), (image.Width, image.Height));
                File.WriteAllBytes(Path.Combine(artifacts, name), png);
            }
            const string Episode0 = "#episode-ep-000";
            const string Goals0 = "[...document.querySelectorAll('#episode-ep-000 .frame')].map(f => f.classList.contains('goal') ? 1 : 0).join('')";

            await browser.SetViewportAsync(1280, 800, cancellationToken);
            await browser.NavigateAsync(url, cancellationToken);
            await browser.WaitForAsync($"document.querySelector('{Episode0}.current') && document.querySelectorAll('{Episode0} .frame').length === 10 && document.querySelector('#summary').textContent.includes('episodes labelled')", cancellationToken);
            await browser.WaitForAsync("[...document.images].filter(i => i.src).every(i => i.complete && i.naturalWidth === 64)", cancellationToken);
            // The video plays at no less than the frames' native size, larger for small frames; only one episode is shown.
            await browser.WaitForAsync($"document.querySelector('{Episode0} video').readyState >= 1 && document.querySelector('{Episode0} video').videoWidth === 64", cancellationToken);
            Assert.True((await browser.EvaluateAsync($"document.querySelector('{Episode0} video').clientWidth", cancellationToken)).GetInt32() >= 480);
            Assert.Equal(0, (await browser.EvaluateAsync("document.querySelector('#episode-ep-001 video').clientWidth", cancellationToken)).GetInt32());
            Assert.Contains("0 of 2 episodes labelled", await Text("#progress"));

            // A name, typed; then frames 1–6 marked goal with "1" (each moves the cursor on), frame 7 left as it is.
            await browser.EvaluateAsync("document.querySelector('#labeller').focus()", cancellationToken);
            await browser.TypeAsync("Ada Lovelace", cancellationToken);
            await Press("Enter");
            Assert.Contains("Ada Lovelace: 0 of 2 episodes labelled", await Text("#progress"));
            await Press("1", "1", "1", "1", "1", "1");
            Assert.Equal("1111110000", (await browser.EvaluateAsync(Goals0, cancellationToken)).GetString());
            Assert.Equal("6 of 10 frames marked goal", await Text($"{Episode0} .count"));
            Assert.Equal("6", (await browser.EvaluateAsync($"document.querySelector('{Episode0} .frame.cursor').dataset.index", cancellationToken)).GetString());

            // Zoom on the cursor's frame, toggle it twice with Enter, close with Escape.
            await Press("z");
            Assert.False((await browser.EvaluateAsync("document.querySelector('#zoom').hidden", cancellationToken)).GetBoolean());
            Assert.Contains("frame 7 of 10, not the goal", await Text("#zoom-caption"));
            Assert.True((await browser.EvaluateAsync("document.querySelector('#zoom img').getBoundingClientRect().width", cancellationToken)).GetDouble() >= 400);
            await Press("Enter");
            Assert.Contains("frame 7 of 10, goal", await Text("#zoom-caption"));
            await Screenshot("label-page-zoom.png");
            await Press("Enter", "Escape");
            Assert.True((await browser.EvaluateAsync("document.querySelector('#zoom').hidden", cancellationToken)).GetBoolean());
            Assert.Equal("1111110000", (await browser.EvaluateAsync(Goals0, cancellationToken)).GetString());

            // The video, frame by frame: "." three times from the first frame, then play and pause with space.
            await Press(".", ".", ".");
            await browser.WaitForAsync($"document.querySelector('{Episode0} .counter').dataset.frame === '4'", cancellationToken);
            Assert.StartsWith("frame 4 / 200", await Text($"{Episode0} .counter"));
            await Press(" ");
            await browser.WaitForAsync($"!document.querySelector('{Episode0} video').paused", cancellationToken);
            await Press(" ");
            await browser.WaitForAsync($"document.querySelector('{Episode0} video').paused", cancellationToken);

            // Submit with "s": the episode's header, the list, the progress and the summary all say so.
            await Press("s");
            await browser.WaitForAsync($"document.querySelector('{Episode0} .status').textContent.startsWith('Saved')", cancellationToken);
            await browser.WaitForAsync($"document.querySelector('{Episode0} h2').textContent.includes('labelled by: Ada Lovelace')", cancellationToken);
            Assert.Contains("60%", await Text($"{Episode0} .status"));
            Assert.Contains("✓ success", await Text("nav button[data-episode='ep-000']"));
            // The summary comes from its own request after the save: wait for it rather than read it once (a race under load).
            await browser.WaitForAsync("document.querySelector('#summary').textContent.includes('1 of 2 episodes labelled')", cancellationToken);
            Assert.Contains("Ada Lovelace: 1 of 2 episodes labelled", await Text("#progress"));
            Assert.Contains("1 of 2 episodes labelled · success rate 100%", await Text("#summary"));
            Assert.True((await browser.EvaluateAsync($"document.querySelector('{Episode0} .submit').disabled", cancellationToken)).GetBoolean());
            // Labels are final: marking more frames changes nothing, and the compare view opened with CLIP's rewards.
            await Press("1");
            Assert.Equal("1111110000", (await browser.EvaluateAsync(Goals0, cancellationToken)).GetString());
            Assert.True((await browser.EvaluateAsync($"document.querySelector('{Episode0}').classList.contains('comparing')", cancellationToken)).GetBoolean());
            Assert.StartsWith("CLIP ", await Text($"{Episode0} .frame .compare .clip"));
            await Screenshot("label-page-labelled.png");

            // "n": the next episode; frames 9 and 10 as goal (a failure).
            await Press("n");
            await browser.WaitForAsync("document.querySelector('#episode-ep-001.current') && document.querySelector(\"nav button[data-episode='ep-001']\").classList.contains('current')", cancellationToken);
            await Press("ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "1", "1", "s");
            await browser.WaitForAsync("document.querySelector('#summary').textContent.includes('2 of 2 episodes labelled · success rate 50%')", cancellationToken);
            Assert.Contains("20%", await Text("#episode-ep-001 .status"));

            // A submission the server refuses shows its reason on the page: no name.
            await browser.EvaluateAsync("document.querySelector('#labeller').value = ''; document.querySelector('#labeller').dispatchEvent(new Event('input'))", cancellationToken);
            await Press("p", "s");
            await browser.WaitForAsync($"document.querySelector('{Episode0} .status').classList.contains('error')", cancellationToken);
            Assert.Contains("Enter your name", await Text($"{Episode0} .status"));

            // A second person marks only frames 1–4 of episode 0 (a failure): they disagree with Ada on frames 5 and 6
            // and on the verdict, which the episode, the list and the disagreements panel show.
            await browser.EvaluateAsync("document.querySelector('#labeller').focus()", cancellationToken);
            await browser.TypeAsync("Grace Hopper", cancellationToken);
            await Press("Enter", "1", "1", "1", "1", "s");
            await browser.WaitForAsync($"document.querySelector('{Episode0} h2').textContent.includes('labelled by: Ada Lovelace, Grace Hopper')", cancellationToken);
            Assert.Contains("Labellers disagree on success. Labellers split on 2 of 10 frames", await Text($"{Episode0} .agreement-note"));
            Assert.Equal(2, (await browser.EvaluateAsync($"document.querySelectorAll('{Episode0} .frame.split').length", cancellationToken)).GetInt32());
            Assert.Contains("⚠", await Text("nav button[data-episode='ep-000']"));
            Assert.Contains("ep-000 step 80: 1/2 goal", await Text("#disagreements"));
            var agreement = new HumanLabelStore(review).Agreement().Single(a => a.Episode == "ep-000");
            Assert.Contains($"CLIP disagrees with them on {agreement.Frames.Count(f => f.ClipDisagrees)}.", await Text($"{Episode0} .agreement-note"));
            await Screenshot("label-page-disagreements.png");
        }

        var stored = new HumanLabelStore(review).Labels;
        Assert.Equal(3, stored.Count);
        Assert.Equal([true, true, true, true, true, true, false, false, false, false], stored.Single(l => l.Episode == "ep-000" && l.Labeller == "Ada Lovelace").Frames);
        Assert.Equal(0.6, stored.Single(l => l.Episode == "ep-000" && l.Labeller == "Ada Lovelace").GoalFraction, 9);
        Assert.False(stored.Single(l => l.Episode == "ep-001").Success);
        Assert.False(stored.Single(l => l.Labeller == "Grace Hopper").Success);

        var exported = new HumanLabelStore(review).ExportLabelledSet(Path.Combine(review, "..", "human-set"), "Ada Lovelace");
        Assert.Equal(20, exported.Count);
        Assert.Equal(8, exported.GoalCount);
        Assert.All(exported.Frames, f => Assert.Equal("human:Ada Lovelace", f.Labeller));
    }

    [Fact]
    public async Task Agreement_marks_frames_labellers_split_on_and_frames_clip_rewards_like_the_other_class()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var review = await RecordReviewSetAsync(cancellationToken);
        // Rewards chosen by hand: episode 0 rises along its frames; episode 1 is flat at 0.5.
        var set = ReviewSet.Load(review);
        (set with
        {
            Episodes = [set.Episodes[0] with { Rewards = [.. Enumerable.Range(0, 10).Select(i => i / 10f)] }, set.Episodes[1] with { Rewards = [.. Enumerable.Repeat(0.5f, 10)] }],
        }).Save(review);
        var store = new HumanLabelStore(review);
        var tokens = set.Episodes.ToDictionary(e => e.Id, e => store.TokenFor(e.Id));
        store.Submit(new HumanLabelSubmission("ep-000", "Ada", [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], tokens["ep-000"]));
        store.Submit(new HumanLabelSubmission("ep-000", "Grace", [0, 0, 0, 0, 1, 1, 1, 1, 1, 0], tokens["ep-000"]));
        store.Submit(new HumanLabelSubmission("ep-001", "Ada", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0], tokens["ep-001"]));

        var agreement = store.Agreement().ToDictionary(a => a.Episode);
        var first = agreement["ep-000"].Frames;
        Assert.Equal([4, 9], first.Where(f => f.LabellersDisagree).Select(f => f.Frame));
        Assert.False(agreement["ep-000"].SuccessDisputed); // both 50%: both successes
        // Frames 4 and 9 are ties (no majority). Majority goal: ep-000 5–8 (0.5–0.8) and ep-001 0–1 (0.5), mean 0.6;
        // non-goal: ep-000 0–3 (0–0.3) and ep-001 2–9 (0.5), mean 0.383. No goal frame lies below 0.383 and no non-goal
        // frame above 0.6, so CLIP disagrees with nothing.
        Assert.DoesNotContain(first, f => f.ClipDisagrees);
        Assert.DoesNotContain(agreement["ep-001"].Frames, f => f.ClipDisagrees);
        Assert.All(first, f => Assert.Equal(2, f.Votes));
        Assert.Equal([0, 0, 0, 0, 1, 2, 2, 2, 2, 1], first.Select(f => f.GoalVotes));

        // A third person breaks the ties: frame 4 (reward 0.4) becomes a goal frame and frame 9 (0.9) a non-goal one.
        // Goal mean (0.4–0.8, 0.5, 0.5) 0.571, non-goal mean (0–0.3, 0.9, eight 0.5s) 0.423: frame 4 is rewarded below
        // the non-goal mean and frame 9 above the goal mean, so CLIP disagrees on both.
        store.Submit(new HumanLabelSubmission("ep-000", "Alan", [0, 0, 0, 0, 1, 1, 1, 1, 1, 0], tokens["ep-000"]));
        var third = store.Agreement().ToDictionary(a => a.Episode);
        Assert.Equal([4, 9], third["ep-000"].Frames.Where(f => f.ClipDisagrees).Select(f => f.Frame));
        Assert.Equal([4, 9], third["ep-000"].Frames.Where(f => f.LabellersDisagree).Select(f => f.Frame));
        Assert.Equal(0.4f, third["ep-000"].Frames[4].ClipReward);
        Assert.DoesNotContain(third["ep-001"].Frames, f => f.ClipDisagrees);
        Assert.True(third["ep-000"].SuccessDisputed is false); // 50%, 50%, 50%
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
