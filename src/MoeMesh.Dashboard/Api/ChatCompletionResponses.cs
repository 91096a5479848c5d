using System.Text.Json.Serialization;
using MoeMesh.Client;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Serialization;

namespace MoeMesh.Dashboard.Api;

/// <summary>A non-streaming answer: <c>chat.completion</c>.</summary>
internal sealed record ChatCompletion(
    string Id,
    long Created,
    string Model,
    IReadOnlyList<ChatCompletionChoice> Choices,
    ChatUsage Usage,
    MeshAccounting Moemesh)
{
    public string Object => "chat.completion";

    public string? SystemFingerprint => null;
}

internal sealed record ChatCompletionChoice(int Index, ChatCompletionMessage Message, string FinishReason)
{
    public object? Logprobs => null;
}

internal sealed record ChatCompletionMessage(string Role, string Content)
{
    public string? Refusal => null;
}

/// <summary>One streamed piece: <c>chat.completion.chunk</c>.</summary>
internal sealed record ChatCompletionChunk(
    string Id,
    long Created,
    string Model,
    IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatUsage? Usage = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Moemesh = null)
{
    public string Object => "chat.completion.chunk";

    public string? SystemFingerprint => null;
}

internal sealed record ChatChunkChoice(int Index, ChatDelta Delta, string? FinishReason)
{
    public object? Logprobs => null;
}

internal sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content = null);

internal sealed record ChatUsage(long PromptTokens, long CompletionTokens, long TotalTokens)
{
    /// <summary>The usage the SDK's chat client reports for the same query (one mapping for both entry points).</summary>
    public static ChatUsage Of(QueryResult result)
    {
        var usage = MoeMeshChatClient.UsageOf(result);
        return new ChatUsage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0, usage.TotalTokenCount ?? 0);
    }
}

/// <summary>The plan the router chose, sent in the first streamed chunk as <c>moemesh.plan</c>.</summary>
internal sealed record MeshPlanSummary(
    string QueryId,
    string Strategy,
    IReadOnlyList<string> Skills,
    IReadOnlyList<PlanStepSummary> Steps,
    double PredictedLatencyMs,
    double PredictedEnergyJ,
    double? BudgetMs,
    double? BudgetJ,
    bool Feasible,
    string? BindingBudget,
    string Rationale)
{
    public static MeshPlanSummary Of(QueryPlan plan) => new(
        plan.QueryId,
        ModelIds.ForStrategy(plan.Strategy),
        plan.Skills,
        plan.Steps.Select(s => new PlanStepSummary(s.ExpertId, s.Replica, s.Role == ExpertRole.Aggregator ? "aggregator" : "responder", s.Silo, s.DeviceName, s.Weight, s.PredictedLatencyMs, s.PredictedEnergyJoules, s.Resident)).ToList(),
        plan.PredictedLatencyMs,
        plan.PredictedEnergyJoules,
        plan.LatencyBudgetMs,
        plan.EnergyBudgetJoules,
        plan.Feasible,
        plan.BindingBudget?.ToWireName(),
        plan.Rationale);
}

internal sealed record PlanStepSummary(string Expert, int Replica, string Role, string? Silo, string? Device, double Weight, double PredictedLatencyMs, double PredictedEnergyJ, bool Resident);

/// <summary>
/// MoeMesh's account of a query, sent as the extra <c>moemesh</c> field of the answer (or of the last
/// streamed chunk): the plan, every expert run with predicted and measured latency and energy, and whether
/// the budgets were met.
/// </summary>
internal sealed record MeshAccounting(
    string QueryId,
    string Strategy,
    IReadOnlyList<string> Skills,
    string Rationale,
    bool Feasible,
    string? BindingBudget,
    double? BudgetMs,
    double? BudgetJ,
    double PredictedLatencyMs,
    double PredictedEnergyJ,
    double LatencyMs,
    double EnergyJ,
    bool EnergyEstimated,
    bool BudgetMet,
    string Combination,
    string? Choice,
    IReadOnlyList<RunAccounting> Runs,
    IReadOnlyList<string> Notes)
{
    public static MeshAccounting Of(QueryResult result, IReadOnlyList<string> notices) => new(
        result.QueryId,
        ModelIds.ForStrategy(result.Plan.Strategy),
        result.Plan.Skills,
        result.Plan.Rationale,
        result.Plan.Feasible,
        result.Plan.BindingBudget?.ToWireName(),
        result.Plan.LatencyBudgetMs,
        result.Plan.EnergyBudgetJoules,
        result.Plan.PredictedLatencyMs,
        result.Plan.PredictedEnergyJoules,
        result.LatencyMs,
        result.EnergyJoules,
        result.EnergyEstimated,
        result.BudgetMet,
        result.Combination.ToWireName(),
        result.Choice,
        result.Runs.Select(RunAccounting.Of).ToList(),
        result.Notes.Concat(notices).Distinct(StringComparer.Ordinal).ToList());
}

internal sealed record RunAccounting(
    string Expert,
    int Replica,
    string Role,
    string? Silo,
    string? Device,
    string Outcome,
    double LatencyMs,
    double PredictedLatencyMs,
    double EnergyJ,
    double PredictedEnergyJ,
    string EnergyMeter,
    int PromptTokens,
    int CompletionTokens,
    double TokensPerSecond,
    double LoadMs,
    string? Error)
{
    public static RunAccounting Of(ExpertRun run) => new(
        run.ExpertId,
        run.Replica,
        run.Role == ExpertRole.Aggregator ? "aggregator" : "responder",
        run.Silo,
        run.DeviceName,
        run.Outcome.ToString().ToLowerInvariant(),
        run.LatencyMs,
        run.PredictedLatencyMs,
        run.EnergyJoules,
        run.PredictedEnergyJoules,
        run.EnergyMeter.ToWireName(),
        run.Metrics?.PromptTokens ?? 0,
        run.Metrics?.GeneratedTokens ?? 0,
        run.Metrics?.DecodeTokensPerSecond ?? 0,
        run.LoadMs,
        run.Error);

    /// <summary>The OpenAI finish reason of a finished query: "length" when an answering run hit the token limit.</summary>
    public static string FinishReasonOf(QueryResult result) => MoeMeshChatClient.FinishOf(result).Value;
}

/// <summary><c>GET /v1/models</c>.</summary>
internal sealed record ModelList(IReadOnlyList<ModelEntry> Data)
{
    public string Object => "list";
}

/// <summary>One model: a routing strategy over all experts, or a single expert.</summary>
internal sealed record ModelEntry(
    string Id,
    long Created,
    string OwnedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Skills = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Silos = null)
{
    public string Object => "model";
}
