namespace VlmRm.ClipTraining;

/// <summary>
/// The learning rate of each optimizer step. Two shapes, both with a linear warm-up:
/// <list type="bullet">
/// <item><b>cosine</b> (OpenCLIP's): decays to zero over a step budget fixed in advance.</item>
/// <item><b>until plateau</b> (warm-up, stable, decay, as in MiniCPM's WSD schedule): the rate holds at its peak
/// until the training loss stops falling, then decays linearly to zero over a fifth of the steps taken so far. A
/// size sweep needs this: with one fixed budget for every width, the sweep measures how fast each width learns, not
/// what it can represent (docs/REPRODUCTION.md, "Model size"). The budget becomes a cap the decay must fit under.</item>
/// </list>
/// "Stopped falling" is read from windows of <see cref="Window"/> steps: a window's mean loss counts as progress when it
/// is below the best earlier window's mean by more than <see cref="Tolerance"/> (relative); after
/// <see cref="Patience"/> windows in a row without progress the decay starts. The decision is a pure function of the
/// loss curve, so a resumed run reaches the same one from its saved curve.
/// </summary>
public sealed record LearningRateSchedule
{
    public const int DefaultWindow = 250;
    public const double Tolerance = 0.005;
    public const int Patience = 3;

    /// <summary>Length of the decay as a share of the steps taken when it starts.</summary>
    public const double DecayShare = 0.2;

    public required double PeakRate { get; init; }
    public required int WarmupSteps { get; init; }

    /// <summary>The cosine's budget; with <see cref="UntilPlateau"/>, the most steps the run may take.</summary>
    public required int Steps { get; init; }

    public bool UntilPlateau { get; init; }

    /// <summary>Steps per window the loss is averaged over; long enough that batch-to-batch noise does not read as a plateau.</summary>
    public int Window { get; init; } = DefaultWindow;

    /// <summary>The rate of the step after <paramref name="curve"/> (a point for every step taken so far).</summary>
    public double RateAt(IReadOnlyList<ClipTrainingPoint> curve)
    {
        var step = curve.Count;
        if (step < WarmupSteps) return PeakRate * (step + 1) / WarmupSteps;
        if (!UntilPlateau) return 0.5 * PeakRate * (1 + Math.Cos(Math.PI * (step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps)));
        if (DecayStart(curve) is not { } start) return PeakRate;
        var length = DecayLength(start);
        return PeakRate * Math.Max(0, 1 - (double)(step - start) / length);
    }

    /// <summary>Whether a run with these losses is done: its budget spent, or its decay after the plateau finished.</summary>
    public bool IsComplete(IReadOnlyList<ClipTrainingPoint> curve) =>
        curve.Count >= Steps || UntilPlateau && DecayStart(curve) is { } start && curve.Count >= start + DecayLength(start);

    /// <summary>
    /// The step the decay starts at: <see cref="Plateau"/>, or else the last step at which a decay still fits under the
    /// cap; null while neither is reached.
    /// </summary>
    private int? DecayStart(IReadOnlyList<ClipTrainingPoint> curve) =>
        Plateau(curve) ?? (curve.Count >= LatestDecayStart ? LatestDecayStart : null);

    /// <summary>The end of the window that completed the patience (the loss stopped falling), if one did before the cap forced the decay.</summary>
    public int? Plateau(IReadOnlyList<ClipTrainingPoint> curve)
    {
        if (!UntilPlateau) return null;
        var best = double.PositiveInfinity;
        var stalled = 0;
        for (var end = WarmupSteps + Window; end <= Math.Min(curve.Count, LatestDecayStart); end += Window)
        {
            var mean = 0.0;
            for (var i = end - Window; i < end; i++) mean += curve[i].Loss;
            mean /= Window;
            if (mean < best * (1 - Tolerance)) stalled = 0;
            else if (++stalled >= Patience) return end;
            best = Math.Min(best, mean);
        }
        return null;
    }

    /// <summary>The smallest cap under which a plateau can be read at all: the warm-up, one window to set the best, the patience, then the decay.</summary>
    public static double FewestStepsForPlateau(int warmupSteps, int window) => (warmupSteps + window * (1 + Patience)) * (1 + DecayShare);

    private int LatestDecayStart => (int)Math.Ceiling(Steps / (1 + DecayShare));

    private static int DecayLength(int start) => Math.Max(1, (int)Math.Round(start * DecayShare));
}
