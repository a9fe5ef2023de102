using VlmRm.Envs.ClassicControl;

namespace VlmRm.Envs.Tests;

public class CartPoleTests
{
    // Worked out from Gymnasium's cartpole.py equations (Euler, tau 0.02) in plain float64 arithmetic,
    // starting at (x, x_dot, theta, theta_dot) = (0.01, -0.02, 0.03, 0.04) with actions 1, 1, 0.
    private static readonly double[][] Expected =
    [
        [0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081],
        [0.013093583914951107, 0.3693479760579556, 0.025938625640799837, -0.5258796280501483],
        [0.02048054343611022, 0.17387081260481596, 0.01542103307979687, -0.22513741609237464],
    ];

    [Fact]
    public void Dynamics_match_values_worked_out_from_gymnasiums_equations()
    {
        using var env = new CartPoleEnv();
        env.State = new CartPoleState(0.01, -0.02, 0.03, 0.04);
        var observation = new float[4];
        int[] actions = [1, 1, 0];
        for (var step = 0; step < actions.Length; step++)
        {
            env.Step([actions[step]], observation);
            var s = env.State;
            double[] actual = [s.X, s.XDot, s.Theta, s.ThetaDot];
            for (var k = 0; k < 4; k++)
            {
                Assert.Equal(Expected[step][k], actual[k], 1e-15);
                Assert.Equal((float)Expected[step][k], observation[k]);
            }
        }
    }

    [Fact]
    public void Paper_mode_never_terminates_pays_negative_reward_when_fallen_and_truncates_at_200()
    {
        using var env = new CartPoleEnv();
        var observation = new float[4];
        env.Reset(3, observation);
        var sawFallen = false;
        for (var t = 1; t <= 200; t++)
        {
            var result = env.Step([1], observation); // always push right: the pole falls quickly
            Assert.False(result.Terminated);
            Assert.Equal(t == 200, result.Truncated);
            var upright = CartPoleEnv.IsUpright(env.State);
            Assert.Equal(upright, result.IsSuccess);
            Assert.Equal(upright ? 1f : -1f, result.Reward);
            sawFallen |= !upright;
        }
        Assert.True(sawFallen);
    }

    [Fact]
    public void Paper_mode_holds_the_cart_on_the_track_and_wraps_the_angle()
    {
        using var env = new CartPoleEnv();
        var observation = new float[4];
        env.Reset(3, observation);
        var reachedEnd = false;
        for (var t = 0; t < 200; t++)
        {
            env.Step([t % 50 < 45 ? 1 : 0], observation); // mostly push right: the cart reaches the end, the pole swings round
            Assert.InRange(env.State.X, -CartPoleEnv.XThreshold, CartPoleEnv.XThreshold);
            Assert.InRange(env.State.Theta, -Math.PI, Math.PI);
            Assert.True(env.Spec.ObservationSpace is BoxSpace box && observation[0] <= box.High[0] && Math.Abs(observation[2]) <= box.High[2]);
            reachedEnd |= env.State.X == CartPoleEnv.XThreshold;
        }
        Assert.True(reachedEnd);
        Assert.Equal(Math.PI - 0.5, CartPoleEnv.HoldOnTrack(new CartPoleState(0, 0, -Math.PI - 0.5, 0)).Theta, 1e-12);
        // The end of the track stops a cart moving into it, and lets one moving away go.
        Assert.Equal(new CartPoleState(-CartPoleEnv.XThreshold, 0, 0, 1), CartPoleEnv.HoldOnTrack(new CartPoleState(-7, -3, 0, 1)));
        Assert.Equal(new CartPoleState(-CartPoleEnv.XThreshold, 0.5, 0, 1), CartPoleEnv.HoldOnTrack(new CartPoleState(-CartPoleEnv.XThreshold, 0.5, 0, 1)));
    }

    [Fact]
    public void Gymnasium_mode_terminates_past_the_thresholds()
    {
        using var env = new CartPoleEnv(new CartPoleOptions { PaperModifications = false });
        Assert.Equal(500, env.Spec.MaxEpisodeSteps);
        var observation = new float[4];
        env.Reset(3, observation);
        StepResult result;
        var steps = 0;
        do
        {
            result = env.Step([0], observation);
            steps++;
        } while (!result.Terminated && steps < 500);
        Assert.True(result.Terminated);
        Assert.Equal(1f, result.Reward);
        Assert.True(Math.Abs(env.State.Theta) > CartPoleEnv.ThetaThresholdRadians || Math.Abs(env.State.X) > CartPoleEnv.XThreshold);
    }

    [Fact]
    public void Reset_is_deterministic_under_a_seed_and_within_gymnasiums_range()
    {
        using var a = new CartPoleEnv();
        using var b = new CartPoleEnv();
        var oa = new float[4];
        var ob = new float[4];
        a.Reset(42, oa);
        b.Reset(42, ob);
        Assert.Equal(oa, ob);
        Assert.All(oa, v => Assert.InRange(v, -0.05f, 0.05f));
        b.Reset(43, ob);
        Assert.NotEqual(oa, ob);
    }

    [Fact]
    public void Invalid_action_is_a_clear_error()
    {
        using var env = new CartPoleEnv();
        var observation = new float[4];
        env.Reset(0, observation);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => env.Step([2], observation));
        Assert.Contains("CartPole actions are 0", error.Message);
    }
}
