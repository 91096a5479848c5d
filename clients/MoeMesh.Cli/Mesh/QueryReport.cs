using MoeMesh.Cli.Common;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Mesh;

/// <summary>Prints a query's routing decision and per-expert accounting for people.</summary>
public static class QueryReport
{
    public static void WritePlan(QueryPlan plan, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"Routing decision ({plan.Strategy}, decided in {Units.Ms(plan.DecisionMs)}):");
        output.WriteLine($"  {plan.Rationale}");
        if (plan.Skills.Count > 0)
        {
            output.WriteLine($"  skills: {string.Join(", ", plan.Skills)}");
        }

        var budgets = new List<string>();
        if (plan.LatencyBudgetMs is { } ms)
        {
            budgets.Add($"latency {Units.Ms(ms)}");
        }

        if (plan.EnergyBudgetJoules is { } j)
        {
            budgets.Add($"energy {Units.Joules(j)}");
        }

        output.WriteLine($"  predicted: {Units.Ms(plan.PredictedLatencyMs)}, {Units.Joules(plan.PredictedEnergyJoules)}"
                         + (budgets.Count > 0 ? $"; budgets: {string.Join(", ", budgets)}" : "")
                         + (plan.Feasible ? "" : $"; INFEASIBLE ({plan.BindingBudget?.ToWireName()} budget cannot be met)"));
        if (plan.Candidates.Count > 0)
        {
            var table = new TextTable("candidate", "score", "pred latency", "pred energy", "chosen", "note");
            foreach (var c in plan.Candidates)
            {
                table.Add(c.ExpertId, c.Score, Units.Ms(c.PredictedLatencyMs), Units.Joules(c.PredictedEnergyJoules), c.Chosen ? "yes" : "", c.Note);
            }

            table.WriteTo(output);
        }
    }

    public static void WriteResult(QueryResult result, TextWriter output)
    {
        WritePlan(result.Plan, output);
        output.WriteLine();
        output.WriteLine("Expert runs:");
        var table = new TextTable("expert", "role", "device", "silo", "outcome", "tokens", "ttft", "latency (pred)", "energy (pred)", "meter", "choice");
        foreach (var r in result.Runs)
        {
            table.Add(
                r.ExpertId,
                r.Role,
                r.DeviceName,
                r.Silo,
                r.Outcome,
                r.Metrics is { } m ? $"{m.PromptTokens}+{m.GeneratedTokens}" : null,
                r.Metrics is { } t ? Units.Ms(t.TimeToFirstTokenMs) : null,
                $"{Units.Ms(r.LatencyMs)} ({Units.Ms(r.PredictedLatencyMs)})",
                $"{Units.Joules(r.EnergyJoules)} ({Units.Joules(r.PredictedEnergyJoules)})",
                r.EnergyMeter == MeterKind.Model ? $"{r.EnergyMeter.ToWireName()} (estimated)" : r.EnergyMeter.ToWireName(),
                r.Choice);
        }

        table.WriteTo(output);
        output.WriteLine();
        output.WriteLine($"Total: {Units.Ms(result.LatencyMs)}, {Units.Joules(result.EnergyJoules)}{(result.EnergyEstimated ? " (estimated)" : "")}; answer by {result.Combination.ToWireName()}"
                         + (result.Choice is { } choice ? $" (choice {choice})" : "")
                         + $"; budgets {(result.BudgetMet ? "met" : "NOT met")}.");
        foreach (var note in result.Notes)
        {
            output.WriteLine($"  note: {note}");
        }
    }
}
