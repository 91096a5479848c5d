using System.Globalization;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Cli.Eval;

/// <summary>Writes an evaluation as aligned text tables.</summary>
internal static class EvalReportWriter
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Write(TextWriter output, EvaluationResult result, string dataFile, string poolName)
    {
        WriteHeader(output, result, dataFile, poolName);
        WriteRouters(output, result);
        WriteSweep(output, result);
        WriteNotes(output, result);
    }

    /// <summary>What was evaluated: pool, data, split, devices, assumptions, reference, gate and adaptive k.</summary>
    private static void WriteHeader(TextWriter output, EvaluationResult result, string dataFile, string poolName)
    {
        var o = result.Options;
        output.WriteLine($"MoeMesh routing evaluation: pool '{poolName}' ({result.Pool.Count} experts), k = {o.K}, budgets: {Budgets(o)}");
        output.WriteLine($"data: {dataFile}");
        output.WriteLine($"split: fitted on {result.Split.Train} training questions (question_id % 5 != 0), results on {result.Split.Test} test questions (question_id % 5 == 0)");
        output.WriteLine($"devices: {result.Devices.Replace(";", "; ", StringComparison.Ordinal)}");
        output.WriteLine(string.Create(C, $"assumptions: {o.Quantization} weights; prompt = characters / {o.CharsPerToken} + {o.PromptTemplateTokens} template tokens; output = {o.DefaultOutputTokens} tokens per answer where the recording kept no length"));
        output.WriteLine(string.Create(C, $"reference: {result.Reference.Expert}, the best single expert on the training split: accuracy {result.Reference.Accuracy:0.000}, {result.Reference.MeanEnergyJoules:0.0} J per query"));
        if (result.Gate is { } gate)
        {
            var tried = string.Join(", ", gate.Candidates.Select(c => string.Create(C, $"{c.Name} {c.TopOneAccuracy:0.000}")));
            output.WriteLine($"gate: {gate.Chosen}, chosen by {gate.Candidates[0].Folds}-fold cross-validation on the training split (held-out top-1 accuracy: {tried}); embeddings: {result.EmbeddingModel ?? "none"}");
        }

        if (result.Adaptive is { } adaptive)
        {
            output.WriteLine(string.Create(C, $"adaptive k: 1 expert from gate confidence {adaptive.OneExpertAbove:0.000}, 2 from {adaptive.TwoExpertsAbove:0.000}, else k (training split: accuracy {adaptive.TrainAccuracy:0.000}, {adaptive.TrainMeanExperts:0.00} experts per question)"));
        }

        output.WriteLine();
    }

    /// <summary>One row per router: accuracy, predicted cost, budget compliance and decision time.</summary>
    private static void WriteRouters(TextWriter output, EvaluationResult result)
    {
        var header = new[] { "router", "accuracy", "mean ms", "p95 ms", "mean J", "experts", "over budget", "violations", "infeasible", "decision µs", "p99 µs", "fit s" };
        var rows = result.Routers.Select(r => new[]
        {
            r.Router,
            r.Accuracy.ToString("0.000", C),
            r.MeanLatencyMs.ToString("0", C),
            r.P95LatencyMs.ToString("0", C),
            r.MeanEnergyJoules.ToString("0.0", C),
            r.MeanExperts.ToString("0.00", C),
            r.OverBudgetShare.ToString("0.0%", C),
            r.BudgetAware ? r.Violations.ToString(C) : "n/a",
            r.InfeasibleShare.ToString("0.0%", C),
            r.MeanDecisionMicroseconds.ToString("0", C),
            r.P99DecisionMicroseconds.ToString("0", C),
            r.FitSeconds.ToString("0.0", C),
        }).ToList();
        WriteTable(output, header, rows);
        output.WriteLine("latency and energy are the plans' predictions; violations = over budget although a plan within budget existed (n/a: the router ignores budgets)");
    }

    /// <summary>The energy-budget sweep, one column per router, when one was run.</summary>
    private static void WriteSweep(TextWriter output, EvaluationResult result)
    {
        if (result.Sweep.Count > 0)
        {
            var o = result.Options;
            output.WriteLine();
            output.WriteLine(string.Create(C, $"energy-budget sweep (k = {o.K}): accuracy (mean J) at budgets that are shares of the reference's {result.Reference.MeanEnergyJoules:0.0} J"));
            var routers = result.Sweep.Select(p => p.Router).Distinct().ToArray();
            var fractions = result.Sweep.Select(p => p.BudgetFraction).Distinct().Order().ToArray();
            var sweepHeader = new[] { "share", "budget J" }.Concat(routers).ToArray();
            var sweepRows = fractions.Select(f =>
            {
                var cells = new List<string> { f.ToString("0.00", C), (f * result.Reference.MeanEnergyJoules).ToString("0.0", C) };
                foreach (var router in routers)
                {
                    var point = result.Sweep.First(p => p.Router == router && p.BudgetFraction == f);
                    var infeasible = point.InfeasibleShare > 0 ? string.Create(C, $" {point.InfeasibleShare:0%} inf") : "";
                    cells.Add(string.Create(C, $"{point.Accuracy:0.000} ({point.MeanEnergyJoules:0})") + infeasible);
                }

                return cells.ToArray();
            }).ToList();
            WriteTable(output, sweepHeader, sweepRows);
        }
    }

    /// <summary>Infeasible examples, batching, the chosen aggregator and warnings.</summary>
    private static void WriteNotes(TextWriter output, EvaluationResult result)
    {
        foreach (var report in result.Routers.Where(r => r.InfeasibleExample is not null))
        {
            output.WriteLine($"infeasible ({report.Router}), for example {report.InfeasibleExample}");
        }

        if (result.Batching.Count > 0)
        {
            output.WriteLine();
            foreach (var batch in result.Batching)
            {
                output.WriteLine(string.Create(C, $"batching ({batch.Router}): {batch.ModelLoads} model loads in {batch.Windows} windows of {batch.Window} questions, against {batch.NaiveModelLoads} serving them one by one"));
            }
        }

        if (result.Aggregator is not null)
        {
            output.WriteLine();
            output.WriteLine($"aggregator chosen on the training split: {result.Aggregator}");
        }

        foreach (var warning in result.Warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
    }

    private static string Budgets(MoeMesh.Routing.Fitting.EvaluationOptions o)
    {
        var parts = new List<string>();
        if (o.LatencyBudgetMs is { } ms)
        {
            parts.Add(string.Create(C, $"{ms:0.#} ms"));
        }

        if (o.EnergyBudgetJoules is { } j)
        {
            parts.Add(string.Create(C, $"{j:0.##} J"));
        }

        return parts.Count == 0 ? "none" : string.Join(" and ", parts) + " per query";
    }

    private static void WriteTable(TextWriter output, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))));
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))));
        }
    }
}
