using System.Globalization;
using System.Text;
using ScottPlot;
using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.Epic;

namespace VlmRm.Evaluation.Figures;

/// <summary>A named series of points, one line of a figure.</summary>
public sealed record Series(string Name, double[] X, double[] Y);

/// <summary>A reward model's EPIC distance at a CLIP model size, with its bootstrap interval over the labelled states when known.</summary>
public sealed record SizePoint(string Model, long Parameters, double Epic, string Variant, EpicInterval? Interval = null);

/// <summary>One width of a Fig. 4 curve: the points of its training runs, and how far their distances spread.</summary>
public sealed record SizeWidth(long Parameters, IReadOnlyList<SizePoint> Runs)
{
    public double[] Epics { get; } = [.. Runs.Select(r => r.Epic)];

    public SeedSpread Spread { get; } = SeedSpread.Of([.. Runs.Select(r => r.Epic)]);
}

/// <summary>One curve of Fig. 4: a variant (an α) and its widths from the smallest.</summary>
public sealed record SizeCurve(string Variant, IReadOnlyList<SizeWidth> Widths)
{
    /// <summary>The points grouped as the figure and the command's seed comparison both read them.</summary>
    public static IReadOnlyList<SizeCurve> Of(IEnumerable<SizePoint> points) =>
        [.. points.GroupBy(p => p.Variant).Select(variant =>
            new SizeCurve(variant.Key, [.. variant.GroupBy(p => p.Parameters).OrderBy(w => w.Key).Select(w => new SizeWidth(w.Key, [.. w]))]))];
}

/// <summary>
/// The paper's figures as PNGs (ScottPlot), each with its numbers in a CSV beside it:
/// reward landscapes (Fig. 2), EPIC vs model size (Fig. 4), goal/non-goal reward histograms (Fig. 7), learning curves.
/// Both files are written atomically. Figures are drawn to be printed: 1000×580 px with 13–18 pt text, legends
/// beside the data (never over it), axes labelled with their units.
/// </summary>
public static class EvaluationPlots
{
    public const int Width = 1000;
    public const int Height = 580;

    /// <summary>What R_CLIP (Eq. 3) is measured in, for the axes that show it.</summary>
    public const string RewardAxis = "CLIP reward (cosine, unitless)";

    /// <summary>How far apart, in log10 of the parameter count, a width's training runs are drawn in Fig. 4.</summary>
    private const double RunSpacing = 0.008;

    /// <summary>Fig. 2: reward against the state coordinate, one line per α; the goal's range shaded when given.</summary>
    public static void RewardLandscape(string pngPath, string title, string xLabel, IReadOnlyList<Series> series, (double From, double To)? goal = null)
    {
        var plot = NewPlot(title, xLabel, RewardAxis);
        if (goal is var (from, to))
        {
            var span = plot.Add.HorizontalSpan(from, to, Colors.SeaGreen.WithAlpha(0.12));
            span.LegendText = "goal states";
            span.LineWidth = 0;
        }
        AddLines(plot, series);
        Finish(plot, pngPath);
        WriteLongCsv(pngPath, "series", xLabel, "reward", series);
    }

    /// <summary>
    /// Fig. 4: EPIC distance against parameter count on a log axis, one line per variant (e.g. α). A width trained from
    /// several seeds shows each run as a marker and its line passes through their mean, so the spread between runs
    /// stands beside the change between widths.
    /// </summary>
    public static void EpicVsModelSize(string pngPath, string title, IReadOnlyList<SizePoint> points)
    {
        if (points.Count == 0) throw new ArgumentException("No model was evaluated: nothing to plot.");
        var withIntervals = points.All(p => p.Interval is not null);
        if (withIntervals) title += $"\nbars: {points[0].Interval!.Value.Level:P0} bootstrap intervals over the labelled states";
        var variants = SizeCurve.Of(points);
        var runsPerWidth = variants.SelectMany(c => c.Widths).Max(w => w.Runs.Count);
        if (runsPerWidth > 1) title += "; line: mean over a width's training runs";
        var plot = NewPlot(title, "CLIP parameters (log scale)", "EPIC distance to goal labels (lower is better)");
        for (var v = 0; v < variants.Count; v++)
        {
            var widths = variants[v].Widths;
            // Bars of several variants (and of a width's runs) at one size would cover each other: each is moved aside a little.
            var dodge = withIntervals || runsPerWidth > 1 ? VariantSpacing(runsPerWidth) * (v - (variants.Count - 1) / 2.0) : 0;
            var line = plot.Add.Scatter(widths.Select(w => Math.Log10(w.Parameters) + dodge).ToArray(), widths.Select(w => w.Spread.Mean).ToArray());
            line.LegendText = variants[v].Variant;
            line.LineWidth = 2;
            line.MarkerSize = runsPerWidth > 1 ? 0 : 8;
            var runs = widths.SelectMany(w => w.Runs.Select((p, run) => (Point: p, X: Math.Log10(w.Parameters) + dodge + RunSpacing * (run - (w.Runs.Count - 1) / 2.0)))).ToArray();
            if (runsPerWidth > 1)
            {
                var markers = plot.Add.ScatterPoints(runs.Select(r => r.X).ToArray(), runs.Select(r => r.Point.Epic).ToArray());
                markers.Color = line.Color;
                markers.MarkerSize = 8;
            }
            if (withIntervals)
            {
                var bars = plot.Add.ErrorBar(runs.Select(r => r.X).ToArray(), runs.Select(r => r.Point.Epic).ToArray(), new double[runs.Length]);
                bars.YErrorPositive = runs.Select(r => r.Point.Interval!.Value.High - r.Point.Epic).ToArray();
                bars.YErrorNegative = runs.Select(r => r.Point.Epic - r.Point.Interval!.Value.Low).ToArray();
                bars.Color = line.Color;
                bars.LineWidth = 1.5f;
            }
        }
        var (low, high) = (Math.Floor(points.Min(p => Math.Log10(p.Parameters))), Math.Ceiling(points.Max(p => Math.Log10(p.Parameters))));
        if (high == low) high = low + 1;
        var ticks = new List<double>();
        for (var decade = low; decade <= high; decade++)
        {
            foreach (var m in new[] { 1, 2, 5 })
            {
                var t = decade + Math.Log10(m);
                if (t <= high) ticks.Add(t);
            }
        }
        // Each model's own size is labelled too (a sweep of a few models rarely spans several 1-2-5 ticks), and a
        // round tick within 15% of one is dropped so the two labels do not print over each other.
        var sizes = points.Select(p => Math.Log10(p.Parameters)).Distinct().ToList();
        var drawnAround = Math.Max(0.06, VariantSpacing(runsPerWidth) * (variants.Count - 1) / 2.0 + RunSpacing * (runsPerWidth - 1) / 2.0 + 0.01);
        ticks.RemoveAll(t => sizes.Any(size => Math.Abs(size - t) < drawnAround));
        ticks.AddRange(sizes);
        ticks.Sort();
        plot.Axes.Bottom.SetTicks(ticks.ToArray(), ticks.Select(t => FormatCount(Math.Pow(10, t))).ToArray());
        // Each width named once (by its first model, with its number of runs), above its highest point: centred on it,
        // but running inwards from the smallest and the largest model so the names at the ends stay inside the data area.
        var (smallest, largest) = (points.Min(p => p.Parameters), points.Max(p => p.Parameters));
        foreach (var width in points.GroupBy(p => p.Parameters))
        {
            var top = width.MaxBy(Top)!;
            var runs = width.Select(p => p.Model).Distinct().Count();
            var name = runs > 1 ? $"{width.First().Model} ({runs} training runs)" : width.First().Model;
            var label = plot.Add.Text(name, Math.Log10(top.Parameters), Top(top));
            label.LabelFontSize = 13;
            label.LabelAlignment = top.Parameters == smallest && smallest != largest ? Alignment.LowerLeft
                : top.Parameters == largest && smallest != largest ? Alignment.LowerRight
                : Alignment.LowerCenter;
            label.OffsetY = -8;
        }
        plot.Axes.Margins(0.25, 0.18);
        Finish(plot, pngPath);
        var csv = new StringBuilder("model,parameters,variant,epic,epic_low,epic_high\n");
        foreach (var p in points)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{CsvText.Field(p.Model)},{p.Parameters},{CsvText.Field(p.Variant)},{p.Epic:R},{p.Interval?.Low:R},{p.Interval?.High:R}\n");
        }
        WriteCsv(pngPath, csv);

        static double Top(SizePoint point) => point.Interval?.High ?? point.Epic;
        static double VariantSpacing(int runsPerWidth) => RunSpacing * runsPerWidth + 0.01;
    }

    /// <summary>Fig. 7: histograms of the reward of goal and non-goal states, their means dotted.</summary>
    public static void GoalHistograms(string pngPath, string title, float[] rewards, bool[] isGoal, int bins = 30)
    {
        if (rewards.Length != isGoal.Length || rewards.Length == 0) throw new ArgumentException($"{rewards.Length} rewards for {isGoal.Length} labels.");
        var (min, max) = (rewards.Min(), rewards.Max());
        if (max <= min) max = min + 1e-6f;
        var width = (max - min) / bins;
        var plot = NewPlot(title, RewardAxis, "fraction of the class's states");
        var csv = new StringBuilder("class,bin_start,bin_end,fraction\n");
        foreach (var (goal, name, color) in new[] { (true, "goal", Colors.SeaGreen), (false, "non-goal", Colors.OrangeRed) })
        {
            var values = rewards.Where((_, i) => isGoal[i] == goal).ToArray();
            if (values.Length == 0) continue;
            var counts = new double[bins];
            foreach (var v in values) counts[Math.Min(bins - 1, (int)((v - min) / width))] += 1.0 / values.Length;
            var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(b => min + (b + 0.5) * width).Select(x => (double)x).ToArray(), counts);
            foreach (var bar in bars.Bars)
            {
                bar.Size = width * 0.95;
                bar.FillColor = color.WithAlpha(0.45);
                bar.LineWidth = 0;
            }
            bars.LegendText = $"{name} (n={values.Length})";
            var mean = plot.Add.VerticalLine(values.Average());
            mean.LinePattern = LinePattern.Dotted;
            mean.LineWidth = 2;
            mean.Color = color;
            mean.LegendText = $"{name} mean {values.Average():F3}";
            for (var b = 0; b < bins; b++) csv.Append(CultureInfo.InvariantCulture, $"{name},{min + b * width:R},{min + (b + 1) * width:R},{counts[b]:R}\n");
        }
        Finish(plot, pngPath);
        WriteCsv(pngPath, csv);
    }

    /// <summary>Learning curves: one line per run (e.g. success rate or ground-truth return against environment steps).</summary>
    public static void LearningCurves(string pngPath, string title, string yLabel, IReadOnlyList<Series> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("No run had this metric: nothing to plot.");
        var plot = NewPlot(title, "environment steps", yLabel);
        AddLines(plot, runs);
        Finish(plot, pngPath);
        WriteLongCsv(pngPath, "run", "step", yLabel, runs);
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        // The title centres over the data area, which an outside legend narrows to ~700 px: past ~60 characters at
        // 18 pt (≈ 11 px a character) it would be cut at both edges, so a longer one shrinks to fit.
        plot.Axes.Title.Label.FontSize = Math.Clamp(1100f / title.Split('\n').Max(line => line.Length), 11f, 18f);
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.Label.FontSize = 15;
            axis.TickLabelStyle.FontSize = 13;
        }
        return plot;
    }

    private static void AddLines(Plot plot, IEnumerable<Series> series)
    {
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
    }

    /// <summary>
    /// The legend goes beside the data, outside it, so no line or bar is ever hidden under it: to the right, or below
    /// when its labels are long (run ids), where it takes height instead of the data's width.
    /// </summary>
    private static void Finish(Plot plot, string pngPath)
    {
        var longest = plot.GetPlottables().Select(p => p.LegendItems.Select(i => i.LabelText.Length).DefaultIfEmpty(0).Max()).DefaultIfEmpty(0).Max();
        plot.ShowLegend(longest > 24 ? Edge.Bottom : Edge.Right);
        plot.Legend.FontSize = 13;
        AtomicFile.WriteAllBytes(pngPath, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    private static void WriteLongCsv(string pngPath, string seriesColumn, string xColumn, string yColumn, IReadOnlyList<Series> series)
    {
        var csv = new StringBuilder($"{seriesColumn},{Column(xColumn)},{Column(yColumn)}\n");
        foreach (var s in series)
        {
            for (var i = 0; i < s.X.Length; i++) csv.Append(CultureInfo.InvariantCulture, $"{CsvText.Field(s.Name)},{s.X[i]:R},{s.Y[i]:R}\n");
        }
        WriteCsv(pngPath, csv);
    }

    private static void WriteCsv(string pngPath, StringBuilder csv) => AtomicFile.WriteAllBytes(Path.ChangeExtension(pngPath, ".csv"), Encoding.UTF8.GetBytes(csv.ToString()));

    /// <summary>A CSV column name from an axis label, its parenthesised unit left out: "car position x (…)" → car_position_x.</summary>
    private static string Column(string label)
    {
        var name = label.Split(" (")[0].Trim();
        return new(name.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());
    }

    private static string FormatCount(double n) => n >= 1e9 ? $"{n / 1e9:0.#}B" : n >= 1e6 ? $"{n / 1e6:0.#}M" : n >= 1e3 ? $"{n / 1e3:0.#}k" : $"{n:0}";
}
