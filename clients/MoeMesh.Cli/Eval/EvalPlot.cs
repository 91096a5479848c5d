using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
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

        // The oracle (about 0.8) would squash the range where the routers differ; the tables report it.
        foreach (var group in result.Sweep.Where(p => p.Router != RouterNames.Oracle).GroupBy(p => p.Router))
        {
            var points = group.OrderBy(p => p.BudgetFraction).ToArray();
            var line = plot.Add.Scatter(points.Select(p => p.MeanEnergyJoules).ToArray(), points.Select(p => p.Accuracy).ToArray(), palette.GetColor(colorIndex++));
            line.LegendText = $"{group.Key}, energy budget sweep";
            line.MarkerSize = 6;
            line.LineWidth = 2;
        }

        MarkerShape[] shapes = [MarkerShape.FilledDiamond, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledTriangleDown, MarkerShape.Cross, MarkerShape.Eks, MarkerShape.Asterisk, MarkerShape.OpenCircle, MarkerShape.OpenSquare];
        var shapeIndex = 0;
        foreach (var report in result.Routers.Where(r => r.Router != RouterNames.Oracle))
        {
            var marker = plot.Add.ScatterPoints(new[] { report.MeanEnergyJoules }, new[] { report.Accuracy }, palette.GetColor(colorIndex++));
            marker.MarkerSize = 12;
            marker.MarkerShape = shapes[shapeIndex++ % shapes.Length];
            marker.LegendText = $"{report.Router}, no budget";
        }

        // The Pareto front: every run (router or sweep point) that no other run beats on both accuracy and energy.
        var runs = result.Sweep.Where(p => p.Router != RouterNames.Oracle).Select(p => (Energy: p.MeanEnergyJoules, p.Accuracy))
            .Concat(result.Routers.Where(r => r.Router != RouterNames.Oracle).Select(r => (Energy: r.MeanEnergyJoules, r.Accuracy)))
            .OrderBy(p => p.Energy).ThenByDescending(p => p.Accuracy)
            .ToArray();
        var front = new List<(double Energy, double Accuracy)>();
        foreach (var run in runs)
        {
            if (front.Count == 0 || run.Accuracy > front[^1].Accuracy)
            {
                front.Add(run);
            }
        }

        if (front.Count > 0)
        {
            var pareto = plot.Add.Scatter(front.Select(p => p.Energy).ToArray(), front.Select(p => p.Accuracy).ToArray(), Colors.Black);
            pareto.LinePattern = LinePattern.Dashed;
            pareto.ConnectStyle = ConnectStyle.StepHorizontal;
            pareto.MarkerSize = 0;
            pareto.LineWidth = 1.5f;
            pareto.LegendText = "Pareto front (all runs)";
        }

        var accuracies = result.Sweep.Where(p => p.Router != RouterNames.Oracle).Select(p => p.Accuracy).Concat(result.Routers.Where(r => r.Router != RouterNames.Oracle).Select(r => r.Accuracy)).ToArray();
        var low = accuracies.Length == 0 ? 0.3 : accuracies.Min() - 0.01;
        var high = accuracies.Length == 0 ? 0.6 : accuracies.Max() + 0.01;
        var half = result.Reference.MeanEnergyJoules / 2;
        var guide = plot.Add.Scatter(new[] { half, half }, new[] { low, high }, Colors.Gray);
        guide.LinePattern = LinePattern.Dotted;
        guide.MarkerSize = 0;
        guide.LegendText = "half the best single expert's energy";

        plot.Title($"Accuracy vs energy, pool '{poolName}', k = {result.Options.K} (test split, {result.Split.Test} questions)");
        plot.XLabel("mean predicted energy per query (J)");
        plot.YLabel("accuracy");
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 1200, 650);
    }
}
