using VlmRm.Envs.Imaging;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.Figures;

namespace VlmRm.Evaluation.Tests;

public sealed class EpicVsSizeFigureTests
{
    [Fact]
    public void Several_training_runs_of_a_width_are_drawn_and_listed_one_row_each()
    {
        var points = new List<SizePoint>();
        foreach (var (width, parameters, epics) in new[] { ("TINY", 1_711_104L, new[] { 0.617, 0.630, 0.641 }), ("SMALL", 3_675_392L, new[] { 0.586, 0.620, 0.601 }) })
        {
            for (var seed = 0; seed < epics.Length; seed++)
            {
                foreach (var (variant, shift) in new[] { ("α=0", 0.0), ("α=1", 0.01) })
                {
                    var epic = epics[seed] + shift;
                    points.Add(new SizePoint($"VlmRm-{width}-seed{seed}/test", parameters, epic, variant, new EpicInterval(epic - 0.03, epic + 0.03, 0.95)));
                }
            }
        }
        var png = Path.Combine(Directory.CreateTempSubdirectory("vlmrm-size-figure-").FullName, "epic-vs-size.png");
        EvaluationPlots.EpicVsModelSize(png, "EPIC vs size, three runs a width", points);

        var image = Png.Read(png);
        Assert.Equal((EvaluationPlots.Width, EvaluationPlots.Height), (image.Width, image.Height));
        Assert.True(image.Pixels.Distinct().Count() > 3, "the figure is blank");
        var rows = File.ReadAllLines(Path.ChangeExtension(png, ".csv"));
        Assert.Equal(1 + points.Count, rows.Length);
        Assert.Equal(3, rows.Count(r => r.StartsWith("VlmRm-TINY-seed", StringComparison.Ordinal) && r.Contains(",α=0,", StringComparison.Ordinal)));
    }
}
