using VlmRm.ClipTraining.Data;

namespace VlmRm.ClipTraining.Tests;

public class LearningRateScheduleTests
{
    private const int Warmup = 100;

    private static List<ClipTrainingPoint> Curve(IEnumerable<double> losses) => [.. losses.Select((loss, i) => new ClipTrainingPoint(i + 1, loss, 1, 1))];

    /// <summary>A loss that falls 5% every window until <paramref name="flatFrom"/>, then holds (with the step-to-step noise of a real curve).</summary>
    private static List<ClipTrainingPoint> FallingThenFlat(int steps, int flatFrom) =>
        Curve(Enumerable.Range(0, steps).Select(i => 3 * Math.Pow(0.95, Math.Min(i, flatFrom) / (double)LearningRateSchedule.DefaultWindow) + (i % 2 == 0 ? 0.02 : -0.02)));

    [Fact]
    public void The_cosine_warms_up_then_decays_to_zero_over_its_budget()
    {
        var schedule = new LearningRateSchedule { PeakRate = 1e-3, WarmupSteps = Warmup, Steps = 1100 };
        Assert.Equal(1e-5, schedule.RateAt(Curve([])), 12);
        Assert.Equal(1e-3, schedule.RateAt(Curve(new double[Warmup])), 12);
        Assert.Equal(0.5e-3, schedule.RateAt(Curve(new double[600])), 12);
        Assert.Equal(0, schedule.RateAt(Curve(new double[1100])), 12);
        Assert.False(schedule.IsComplete(Curve(new double[1099])));
        Assert.True(schedule.IsComplete(Curve(new double[1100])));
        Assert.Null(schedule.Plateau(Curve(new double[1100])));
    }

    [Fact]
    public void Until_plateau_holds_the_peak_while_the_loss_falls_then_decays_over_a_fifth_of_the_steps_taken()
    {
        var schedule = new LearningRateSchedule { PeakRate = 1e-3, WarmupSteps = Warmup, Steps = 20_000, UntilPlateau = true };
        var curve = FallingThenFlat(5000, flatFrom: 2000);
        // Windows end at 350, 600, …; the one ending at 2600 is the first whose mean is not 0.5% below the best, the third such in a row completes the patience.
        var plateau = Warmup + 12 * LearningRateSchedule.DefaultWindow;
        Assert.Equal(plateau, schedule.Plateau(curve));
        Assert.Null(schedule.Plateau(curve[..(plateau - 1)]));
        Assert.Equal(1e-3, schedule.RateAt(curve[..(plateau - 1)]), 12);
        var decay = (int)Math.Round(plateau * LearningRateSchedule.DecayShare);
        Assert.Equal(0.5e-3, schedule.RateAt(curve[..(plateau + decay / 2)]), 12);
        Assert.False(schedule.IsComplete(curve[..(plateau + decay - 1)]));
        Assert.True(schedule.IsComplete(curve[..(plateau + decay)]));
        Assert.Equal(0, schedule.RateAt(curve[..(plateau + decay)]), 12);
    }

    [Fact]
    public void A_loss_still_falling_at_the_cap_is_decayed_in_time_to_finish_under_it_and_reports_no_plateau()
    {
        var schedule = new LearningRateSchedule { PeakRate = 1e-3, WarmupSteps = Warmup, Steps = 3000, UntilPlateau = true };
        var curve = FallingThenFlat(3000, flatFrom: 3000);
        Assert.Null(schedule.Plateau(curve));
        Assert.Equal(1e-3, schedule.RateAt(curve[..2499]), 12);
        Assert.True(schedule.RateAt(curve[..2501]) < 1e-3);
        Assert.False(schedule.IsComplete(curve[..2999]));
        Assert.True(schedule.IsComplete(curve));
        Assert.Equal(0, schedule.RateAt(curve), 12);
    }

    [Fact]
    public void Noise_without_a_trend_is_a_plateau_after_the_patience()
    {
        var schedule = new LearningRateSchedule { PeakRate = 1e-3, WarmupSteps = Warmup, Steps = 20_000, UntilPlateau = true };
        var noise = new Random(3);
        var curve = Curve(Enumerable.Range(0, 2000).Select(_ => 2 + 0.1 * noise.NextDouble()));
        Assert.Equal(Warmup + (1 + LearningRateSchedule.Patience) * LearningRateSchedule.DefaultWindow, schedule.Plateau(curve));
    }

    [Fact]
    public void Too_few_steps_to_read_a_plateau_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new ClipTrainingOptions { UntilPlateau = true, Steps = 500 }.Validate());
        Assert.Contains("--steps", error.Message);
        Assert.Contains("1320", error.Message);
        Assert.Contains("window", Assert.Throws<ArgumentException>(() => new ClipTrainingOptions { PlateauWindow = 0 }.Validate()).Message);
    }

    [Fact]
    public void A_plateau_run_is_published_under_its_own_name_never_over_the_cosine_model()
    {
        var cosine = new ClipTrainingOptions { Size = "small" };
        var plateau = cosine with { UntilPlateau = true };
        Assert.Equal($"VlmRm-S-32/envs-v{SceneSources.Version}", cosine.RegistryName);
        Assert.Equal($"VlmRm-S-32/envs-v{SceneSources.Version}-plateau", plateau.RegistryName);
        Assert.Equal("mine/v1", (plateau with { Name = "mine/v1" }).RegistryName);
    }
}
