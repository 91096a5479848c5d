using MoeMesh.Routing.Evaluation;
using ScottPlot;

namespace MoeMesh.Cli.Eval;

/// <summary>Draws accuracy against mean energy: one line per budget-aware router across the energy sweep, a point per router run.</summary>
internal static class EvalPlot
{
    public static void Save(EvaluationResult result, string path, string poolName)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var colorIndex = 0;
        foreach (var group in result.Sweep.GroupBy(p => p.Router))
        {
            var points = group.OrderBy(p => p.BudgetFraction).ToArray();
            var line = plot.Add.Scatter(points.Select(p => p.MeanEnergyJoules).ToArray(), points.Select(p => p.Accuracy).ToArray(), palette.GetColor(colorIndex++));
            line.LegendText = group.Key == RouterNames.Oracle ? "oracle, k = 1 (upper bound)" : $"{group.Key} (energy budget sweep)";
            line.MarkerSize = 6;
            line.LineWidth = 2;
            if (group.Key == RouterNames.Oracle)
            {
                line.LinePattern = LinePattern.Dashed;
            }
        }

        foreach (var report in result.Routers.Where(r => r.Router != RouterNames.Oracle))
        {
            var marker = plot.Add.ScatterPoints(new[] { report.MeanEnergyJoules }, new[] { report.Accuracy }, palette.GetColor(colorIndex++));
            marker.MarkerSize = 11;
            marker.MarkerShape = MarkerShape.FilledDiamond;
            marker.LegendText = $"{report.Router} (no budget)";
        }

        var half = result.Reference.MeanEnergyJoules / 2;
        var guide = plot.Add.Scatter(new[] { half, half }, new[] { 0.35, 0.85 }, Colors.Gray);
        guide.LinePattern = LinePattern.Dotted;
        guide.MarkerSize = 0;
        guide.LegendText = "half the best single expert's energy";

        plot.Title($"Accuracy vs energy, pool '{poolName}', k = {result.Options.K} (test split, {result.Split.Test} questions)");
        plot.XLabel("mean predicted energy per query (J)");
        plot.YLabel("accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 1100, 700);
    }
}
