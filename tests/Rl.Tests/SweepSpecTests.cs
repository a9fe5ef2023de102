using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

public sealed class SweepSpecTests
{
    private const string Task = "name: s\ntasks:\n  - name: cartpole\n    preset: cartpole-dqn\n";

    [Theory]
    [InlineData("name: s\ntasks: cartpole\n", "s.yaml:2:8: tasks: 'cartpole' is not a list of sections of keys (name, preset, success_pose, goal, baseline)")]
    [InlineData(Task + "labeller: ground-truth\n", "s.yaml:5:11: labeller: 'ground-truth' is not ground_truth or clip")]
    [InlineData(Task + "seeds: [0, one]\n", "s.yaml:5:12: seeds: 'one' is not a whole number")]
    [InlineData(Task + "seeds: ~\n", "s.yaml: seeds: at least one seed")]
    [InlineData(Task + "alphas: ~\n", "s.yaml: models and alphas are lists")]
    [InlineData(Task + "max_concurrency: 4\n", "s.yaml:5:1: unknown key 'max_concurrency'; known keys here: name, preset, tasks, seeds, models, alphas, max_concurrent")]
    [InlineData(Task + "  - name: mountaincar\n    preset: mountaincar-sac\n    seed: 3\n", "s.yaml:7:5: tasks: unknown key 'seed'; known keys here: name, preset")]
    [InlineData("name: s\nname: t\n", "s.yaml:2:1: key 'name' is given twice")]
    [InlineData("name: my sweep\ntasks: []\n", "s.yaml: name: a sweep needs a name without spaces or slashes")]
    [InlineData("", "s.yaml: the sweep file is empty")]
    public void A_bad_sweep_file_is_a_clear_error(string yaml, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => SweepSpec.Parse(yaml, "s.yaml")).Message);
    }

    [Fact]
    public void The_labeller_override_is_read_in_config_spelling_and_names_the_runs()
    {
        var runs = SweepSpec.Parse(Task + "seeds: [1, 2]\nlabeller: ground_truth\n", "s.yaml").Expand("s.yaml");
        Assert.Equal(["s.cartpole.gt.s1", "s.cartpole.gt.s2"], runs.Select(r => r.RunId));
        Assert.All(runs, r => Assert.Equal(LabellerKind.GroundTruth, r.Config.Reward.Labeller));
    }

    [Fact]
    public void A_sweeps_assets_folder_reaches_every_run_as_a_full_path_and_a_missing_one_is_named()
    {
        var assets = Directory.CreateTempSubdirectory("vlmrm-assets-");
        try
        {
            var relative = Path.GetRelativePath(Environment.CurrentDirectory, assets.FullName);
            var runs = SweepSpec.Parse(Task + $"seeds: [0, 1]\nassets_directory: {relative}\n", "s.yaml").Expand("s.yaml");
            Assert.All(runs, r => Assert.Equal(assets.FullName, r.Config.EnvOptions.AssetsDirectory));
            Assert.All(SweepSpec.Parse(Task, "s.yaml").Expand("s.yaml"), r => Assert.Null(r.Config.EnvOptions.AssetsDirectory));
        }
        finally
        {
            assets.Delete();
        }
        var missing = Assert.Throws<InvalidDataException>(() => SweepSpec.Parse(Task + "assets_directory: /no/such/assets\n", "s.yaml").Expand("s.yaml"));
        Assert.Contains("env_options.assets_directory: no folder at /no/such/assets", missing.Message);
    }

    [Fact]
    public void A_sweeps_reward_schedule_reaches_every_clip_run_and_travels_as_json()
    {
        var yaml = "name: s\ntasks:\n  - name: cartpole\n    preset: cartpole-dqn-clip-quick\nalphas: [0, 1]\n" +
                   "reward_schedule:\n  - at: 20000\n    alpha: 0.5\n  - at: 40000\n    goal: [the pole stands upright above the cart]\n";
        var runs = SweepSpec.Parse(yaml, "s.yaml").Expand("s.yaml");
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r =>
        {
            Assert.True(r.Config.Reward.KeepEmbeddings);
            Assert.Equal([20_000L, 40_000L], r.Config.Reward.Schedule.Select(c => c.At));
            var back = RunConfigLoader.FromJson(RunConfigLoader.ToJson(r.Config), "json");
            Assert.Equal(0.5f, back.Reward.At(30_000).Alpha);
            Assert.Equal(["the pole stands upright above the cart"], back.Reward.At(40_000).Goal);
            Assert.Equal(r.Config.Reward.Goal, back.Reward.At(39_999).Goal);
        });
    }

    [Fact]
    public void Enums_travel_as_json_in_their_config_spelling()
    {
        var config = RunConfigLoader.LoadFile("mountaincar-sac") with { Device = DeviceChoice.Cpu };
        var json = RunConfigLoader.ToJson(config);
        Assert.Contains("\"algorithm\":\"sac\"", json);
        Assert.Contains("\"device\":\"cpu\"", json);
        Assert.Contains("\"labeller\":\"clip\"", json);
        var back = RunConfigLoader.FromJson(json, "json");
        Assert.Equal((AlgorithmKind.Sac, DeviceChoice.Cpu), (back.Algorithm, back.Device));
        Assert.Equal(RunConfigLoader.ToJson(config), RunConfigLoader.ToJson(back));
    }
}
