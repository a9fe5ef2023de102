using VlmRm.Envs.ClassicControl;

namespace VlmRm.Envs.Tests;

public class MountainCarTests
{
    // Worked out from Gymnasium's continuous_mountain_car.py in float64, rounding the stored state to
    // float32 after each step as Gymnasium does; start (-0.5, 0), actions 1.0, 0.5, -2.0 (clipped to -1).
    private static readonly (double Position, double Velocity)[] Expected =
    [
        (-0.4986768364906311, 0.0013231569901108742),
        (-0.49679040908813477, 0.001886416575871408),
        (-0.4966048300266266, 0.00018557050498202443),
    ];

    [Fact]
    public void Dynamics_match_values_worked_out_from_gymnasiums_equations()
    {
        using var env = new MountainCarContinuousEnv();
        env.State = new MountainCarState(-0.5, 0);
        var observation = new float[2];
        float[] actions = [1.0f, 0.5f, -2.0f];
        for (var step = 0; step < actions.Length; step++)
        {
            env.Step([actions[step]], observation);
            Assert.Equal(Expected[step].Position, env.State.Position, 1e-12);
            Assert.Equal(Expected[step].Velocity, env.State.Velocity, 1e-12);
            Assert.Equal((float)Expected[step].Position, observation[0]);
        }
    }

    [Fact]
    public void Left_wall_stops_the_car()
    {
        var s = MountainCarContinuousEnv.Dynamics(new MountainCarState(-1.19, -0.05), -1);
        Assert.Equal(MountainCarContinuousEnv.MinPosition, s.Position, 1e-6);
        Assert.Equal(0, s.Velocity);
    }

    [Fact]
    public void Paper_mode_goal_is_absorbing_and_rewarded_every_step()
    {
        using var env = new MountainCarContinuousEnv();
        var observation = new float[2];
        env.Reset(0, observation);
        env.State = new MountainCarState(0.44, 0.02);
        var first = env.Step([0f], observation);
        Assert.True(first.IsSuccess);
        Assert.False(first.Terminated);
        Assert.Equal(1f, first.Reward);
        var atGoal = env.State;
        for (var i = 0; i < 20; i++)
        {
            var result = env.Step([-1f], observation); // full throttle backwards changes nothing any more
            Assert.Equal(1f, result.Reward);
            Assert.True(result.IsSuccess);
            Assert.False(result.Terminated);
            Assert.Equal(atGoal, env.State);
        }
    }

    [Fact]
    public void Paper_mode_charges_gymnasiums_control_cost_off_the_goal()
    {
        using var env = new MountainCarContinuousEnv();
        var observation = new float[2];
        env.Reset(0, observation);
        var result = env.Step([0.5f], observation);
        Assert.Equal(-0.1f * 0.25f, result.Reward, 1e-7);
        Assert.False(result.IsSuccess);
    }

    [Fact]
    public void Gymnasium_mode_terminates_at_the_goal_with_100()
    {
        using var env = new MountainCarContinuousEnv(new MountainCarOptions { PaperModifications = false });
        var observation = new float[2];
        env.Reset(0, observation);
        env.State = new MountainCarState(0.44, 0.02);
        var result = env.Step([1f], observation);
        Assert.True(result.Terminated);
        Assert.Equal(100f - 0.1f, result.Reward, 1e-5);
    }

    [Fact]
    public void Reset_position_is_uniform_in_gymnasiums_range()
    {
        using var env = new MountainCarContinuousEnv();
        var observation = new float[2];
        for (var seed = 0; seed < 50; seed++)
        {
            env.Reset(seed, observation);
            Assert.InRange(observation[0], -0.6f, -0.4f);
            Assert.Equal(0f, observation[1]);
        }
    }

    [Fact]
    public void Non_finite_action_is_a_clear_error()
    {
        using var env = new MountainCarContinuousEnv();
        var observation = new float[2];
        env.Reset(0, observation);
        var error = Assert.Throws<ArgumentException>(() => env.Step([float.NaN], observation));
        Assert.Contains("finite", error.Message);
    }
}
