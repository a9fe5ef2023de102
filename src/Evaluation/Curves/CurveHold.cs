using VlmRm.Evaluation.Figures;

namespace VlmRm.Evaluation.Curves;

/// <summary>
/// Whether a learning curve, once it first reached <see cref="Level"/>, stayed there to its end: the question the
/// paper's best-checkpoint selection never asks, and the one a user watching a run does.
/// </summary>
/// <param name="FirstReached">Step of the first point at or above the level; null when the curve never reached it.</param>
/// <param name="Lowest">Lowest value from <paramref name="FirstReached"/> on, and <paramref name="LowestStep"/> its step.</param>
public sealed record CurveHold(string Run, double Level, double? FirstReached, double Lowest, double LowestStep, double Final, double LastStep)
{
    public bool Held => FirstReached is not null && Lowest >= Level;

    public static CurveHold Measure(Series series, double level)
    {
        if (series.X.Length == 0 || series.X.Length != series.Y.Length) throw new ArgumentException($"{series.Name}: a curve needs as many steps as values, at least one.", nameof(series));
        var first = Array.FindIndex(series.Y, y => y >= level);
        var (lowest, lowestStep) = (double.NaN, double.NaN);
        if (first >= 0)
        {
            (lowest, lowestStep) = (series.Y[first], series.X[first]);
            for (var i = first + 1; i < series.Y.Length; i++)
            {
                if (series.Y[i] < lowest) (lowest, lowestStep) = (series.Y[i], series.X[i]);
            }
        }
        return new CurveHold(series.Name, level, first >= 0 ? series.X[first] : null, lowest, lowestStep, series.Y[^1], series.X[^1]);
    }

    public override string ToString() => FirstReached is { } reached
        ? $"{Run}: reached {Level:G3} at step {reached:N0}; lowest after that {Lowest:G3} at step {LowestStep:N0}; final {Final:G3} at step {LastStep:N0}: {(Held ? "held" : "did not hold")}"
        : $"{Run}: never reached {Level:G3} (final {Final:G3} at step {LastStep:N0})";
}
