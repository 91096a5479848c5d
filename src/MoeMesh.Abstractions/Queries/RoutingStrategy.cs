namespace MoeMesh.Queries;

/// <summary>How the router chooses experts for a query.</summary>
public enum RoutingStrategy
{
    /// <summary>The router's default: skill match under the budgets (see the router's documentation).</summary>
    Auto = 0,

    /// <summary>One expert: the best for the query that fits the budgets.</summary>
    Single = 1,

    /// <summary>The expert with the lowest predicted latency.</summary>
    Fastest = 2,

    /// <summary>The expert with the lowest predicted energy.</summary>
    Cheapest = 3,

    /// <summary>Symbolic-MoE: recruit k experts by skill competence, then aggregate.</summary>
    Symbolic = 4,

    /// <summary>MoE²: exact budgeted subset selection, then the gate's top-k of the subset.</summary>
    Moe2 = 5,
}
