namespace MoeMesh.Queries;

/// <summary>
/// How OpenAI-style "model" names map to MoeMesh routing: <c>moemesh-&lt;strategy&gt;</c> selects a
/// strategy over all experts (<c>moemesh</c> alone is the default strategy); any other name is an
/// expert id, answered by that expert alone.
/// </summary>
public static class ModelIds
{
    public const string Prefix = "moemesh";

    /// <summary>The model name for <paramref name="strategy"/>.</summary>
    public static string ForStrategy(RoutingStrategy strategy)
        => strategy == RoutingStrategy.Auto ? Prefix : $"{Prefix}-{strategy.ToString().ToLowerInvariant()}";

    /// <summary>Every strategy model name.</summary>
    public static IReadOnlyList<string> StrategyModels { get; } = Enum.GetValues<RoutingStrategy>().Select(ForStrategy).ToList();

    /// <summary>
    /// Applies <paramref name="model"/> to <paramref name="options"/>: a strategy name sets the strategy,
    /// an expert id restricts the query to that expert. Null or empty leaves the options as they are.
    /// </summary>
    public static QueryOptions Apply(string? model, QueryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(model))
        {
            return options;
        }

        if (TryParseStrategy(model, out var strategy))
        {
            return options with { Strategy = strategy };
        }

        return options with { Strategy = RoutingStrategy.Single, Experts = [model], K = 1 };
    }

    /// <summary>True when <paramref name="model"/> names a strategy.</summary>
    public static bool TryParseStrategy(string model, out RoutingStrategy strategy)
    {
        strategy = RoutingStrategy.Auto;
        if (string.Equals(model, Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return model.StartsWith(Prefix + "-", StringComparison.OrdinalIgnoreCase)
               && Enum.TryParse(model.AsSpan(Prefix.Length + 1), ignoreCase: true, out strategy)
               && Enum.IsDefined(strategy);
    }
}
