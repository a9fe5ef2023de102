using VlmRm.Rl.Algorithms;
using VlmRm.Rl.Labelling;
using VlmRm.Rl.Presets;

namespace VlmRm.Rl.Tests;

/// <summary>The learning code on tasks with a known answer: ground-truth rewards, short budgets, fixed seeds.</summary>
public class ValidationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dqn_balances_cartpole_with_the_ground_truth_reward()
    {
        // Budget: 80k environment steps (the paper's run is 3M); rl-zoo's CartPole DQN settings otherwise.
        var config = new RunConfig
        {
            Env = "CartPole", Algorithm = "dqn", TotalTimesteps = 80_000, Seed = 1,
            Dqn = new DqnOptions
            {
                LearningRate = 2.3e-3, LearningStarts = 1000, TrainFreq = 256, GradientSteps = 128, NetArch = [256, 256],
                BatchSize = 64, BufferSize = 100_000, TargetUpdateInterval = 10, ExplorationFraction = 0.16, ExplorationFinalEps = 0.04,
            },
        };
        using var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await trainer.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var result = trainer.Evaluate(10);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s, training GT return {trainer.Progress.MeanGroundTruthReturn:F1}, eval mean return {result.MeanReturn:F1}: {string.Join(", ", result.Returns)}");
        Assert.True(result.MeanReturn >= 0.95 * 200, $"mean return {result.MeanReturn:F1} < 190");
    }

    [Fact]
    public async Task Sac_reaches_the_mountain_car_goal_with_the_ground_truth_reward()
    {
        // Budget: 50k environment steps (the paper's run is 3M). The paper's τ, γ, entropy coefficient and 2×64
        // network; rl-zoo's buffer and update schedule, batch 256; Ornstein–Uhlenbeck action noise for exploration.
        var config = new RunConfig
        {
            Env = "MountainCar", Algorithm = "sac", TotalTimesteps = 50_000, Seed = 1,
            Sac = new SacOptions
            {
                LearningRate = 3e-4, Tau = 0.01, Gamma = 0.9999, EntCoef = "0.1", NetArch = [64, 64],
                BatchSize = 256, BufferSize = 50_000, TrainFreq = 32, GradientSteps = 32, LearningStarts = 0,
                ActionNoise = "ornstein_uhlenbeck", ActionNoiseSigma = 0.5,
            },
        };
        using var trainer = new Algorithm1Trainer(config, new GroundTruthLabeller());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await trainer.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var result = trainer.Evaluate(10);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s, training success {trainer.Progress.SuccessRate:P0} over {trainer.Progress.Episodes} episodes, eval success {result.SuccessRate:P0}, returns {string.Join(", ", result.Returns.Select(r => Math.Round(r)))}");
        Assert.True(result.SuccessRate >= 0.9, $"success {result.SuccessRate:P0} < 90%");
    }
}
