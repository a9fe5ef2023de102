using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

public class PresetTests
{
    public static TheoryData<string> Presets()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RunConfigLoader.PresetsDirectory, "*.yaml")) data.Add(Path.GetFileNameWithoutExtension(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_shipped_preset_loads(string name)
    {
        var config = RunConfigLoader.LoadFile(name);
        Assert.True(config.TotalTimesteps > 0);
    }

    [Fact]
    public void Presets_carry_the_papers_hyperparameters()
    {
        var cartpole = RunConfigLoader.LoadFile("cartpole-dqn");
        Assert.Equal((3_000_000L, 200, 64_000L), (cartpole.TotalTimesteps, cartpole.EpisodeLength!.Value, cartpole.CheckpointInterval));
        Assert.Equal((75_000, 200, 200, 2.3e-3), (cartpole.Dqn!.LearningStarts, cartpole.Dqn.TrainFreq, cartpole.Dqn.GradientSteps, cartpole.Dqn.LearningRate));
        Assert.Equal([256, 256], cartpole.Dqn.NetArch);
        Assert.Equal(["pole vertically upright on top of the cart"], cartpole.Reward.Goal);

        var mountainCar = RunConfigLoader.LoadFile("mountaincar-sac");
        Assert.Equal((0.01, 0.9999, 1e-4, "0.1"), (mountainCar.Sac!.Tau, mountainCar.Sac.Gamma, mountainCar.Sac.LearningRate, mountainCar.Sac.EntCoef));
        Assert.Equal([64, 64], mountainCar.Sac.NetArch);
    }

    [Theory]
    [InlineData(0, 2e-3)]
    [InlineData(250, 1.5e-3)]
    [InlineData(1000, 0)]
    [InlineData(1200, 0)]
    public void A_linear_learning_rate_falls_to_zero_at_the_end_of_the_run(long timesteps, double expected)
    {
        var linear = new Algorithms.DqnOptions { LearningRate = 2e-3, LearningRateSchedule = "linear" };
        Assert.Equal(expected, linear.LearningRateAt(timesteps, 1000), 1e-15);
        Assert.Equal(2e-3, (linear with { LearningRateSchedule = "constant" }).LearningRateAt(timesteps, 1000));
    }

    [Fact]
    public void Unknown_key_names_file_line_and_key()
    {
        const string yaml = "env: CartPole\nalgorithm: dqn\ndqn:\n  learning_rat: 0.1\n";
        var error = Assert.Throws<InvalidDataException>(() => RunConfigLoader.Parse(yaml, "my.yaml"));
        Assert.StartsWith("my.yaml:4:", error.Message);
        Assert.Contains("unknown key 'learning_rat'", error.Message);
    }

    [Fact]
    public void Ill_typed_value_names_file_and_line()
    {
        var error = Assert.Throws<InvalidDataException>(() => RunConfigLoader.Parse("env: CartPole\ntotal_timesteps: lots\n", "bad.yaml"));
        Assert.StartsWith("bad.yaml:2:", error.Message);
    }

    [Theory]
    [InlineData("env: Pong\n", "env: unknown environment 'Pong'")]
    [InlineData("algorithm: ppo\n", "algorithm: 'ppo' is not sac or dqn")]
    [InlineData("algorithm: sac\ndqn:\n  batch_size: 3\n", "dqn: given for a sac run")]
    [InlineData("reward:\n  labeller: clip\n", "reward.model: a CLIP run names its model")]
    [InlineData("reward:\n  alpha: 1.5\n", "reward.alpha: 1.5 is not in [0, 1]")]
    [InlineData("algorithm: dqn\ndqn:\n  learning_rate_schedule: cosine\n", "dqn.learning_rate_schedule: 'cosine' is not constant or linear")]
    [InlineData("", "the file is empty")]
    public void Invalid_values_are_clear_errors(string yaml, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => RunConfigLoader.Parse(yaml, "x.yaml")).Message);
    }

    [Fact]
    public void Unknown_preset_lists_the_known_ones()
    {
        var error = Assert.Throws<FileNotFoundException>(() => RunConfigLoader.LoadFile("no-such-preset"));
        Assert.Contains("cartpole-dqn", error.Message);
    }
}
