namespace MoeMesh.Queries;

/// <summary>
/// What a query's stream carries, in order: one <see cref="PlanChosen"/>, then
/// <see cref="TokenProduced"/> and <see cref="RunFinished"/> events, then one <see cref="QueryCompleted"/>;
/// <see cref="QueryHeartbeat"/> events come between them while the query runs.
/// </summary>
[GenerateSerializer]
[Alias("moemesh.query-event")]
public abstract record QueryEvent;

/// <summary>The router has decided.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.plan-chosen")]
public sealed record PlanChosen([property: Id(0)] QueryPlan Plan) : QueryEvent;

/// <summary>A piece of text from an expert.</summary>
/// <param name="Text">The new text.</param>
/// <param name="ExpertId">The expert that wrote it.</param>
/// <param name="IsAnswer">True when the text is part of the final answer (the single responder's or the aggregator's); false for a draft that will be combined.</param>
[GenerateSerializer, Immutable]
[Alias("moemesh.token-produced")]
public sealed record TokenProduced([property: Id(0)] string Text, [property: Id(1)] string ExpertId, [property: Id(2)] bool IsAnswer) : QueryEvent;

/// <summary>One expert run has ended.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.run-finished")]
public sealed record RunFinished([property: Id(0)] ExpertRun Run) : QueryEvent;

/// <summary>Something the caller should know: a re-plan, a cancelled straggler, a skipped step.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query-notice")]
public sealed record QueryNotice([property: Id(0)] string Message) : QueryEvent;

/// <summary>The query is answered.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query-completed")]
public sealed record QueryCompleted([property: Id(0)] QueryResult Result) : QueryEvent;

/// <summary>
/// The router is still working on the query. Sent at a steady interval while experts run, so a caller
/// that hears nothing for much longer knows the router's silo is gone rather than busy.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query-heartbeat")]
public sealed record QueryHeartbeat : QueryEvent
{
    /// <summary>The one heartbeat: it carries nothing.</summary>
    public static QueryHeartbeat Instance { get; } = new();
}
