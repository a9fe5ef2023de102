using VlmRm.Evaluation.Curves;
using VlmRm.Evaluation.Figures;

namespace VlmRm.Evaluation.Tests;

public class CurveHoldTests
{
    private static Series Curve(params double[] values) => new("run", [.. values.Select((_, i) => 1000.0 * (i + 1))], values);

    [Fact]
    public void A_curve_that_reaches_the_level_and_stays_holds()
    {
        var hold = CurveHold.Measure(Curve(0.1, 0.5, 0.96, 1.0, 0.95, 1.0), 0.95);
        Assert.True(hold.Held);
        Assert.Equal((3000.0, 0.95, 5000.0, 1.0), (hold.FirstReached!.Value, hold.Lowest, hold.LowestStep, hold.Final));
    }

    [Fact]
    public void A_curve_that_learns_then_forgets_does_not_hold_and_names_where_it_fell()
    {
        var hold = CurveHold.Measure(Curve(0.2, 1.0, 1.0, 0.4, 0.0, 0.9), 0.95);
        Assert.False(hold.Held);
        Assert.Equal((2000.0, 0.0, 5000.0), (hold.FirstReached!.Value, hold.Lowest, hold.LowestStep));
        Assert.Contains("lowest after that 0 at step 5,000", hold.ToString());
    }

    [Fact]
    public void A_curve_that_never_reaches_the_level_does_not_hold()
    {
        var hold = CurveHold.Measure(Curve(0.2, 0.5, 0.9), 0.95);
        Assert.False(hold.Held);
        Assert.Null(hold.FirstReached);
        Assert.StartsWith("run: never reached 0.95", hold.ToString());
    }
}
