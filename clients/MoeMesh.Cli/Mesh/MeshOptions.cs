using System.CommandLine;
using System.Globalization;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Cli.Mesh;

/// <summary>Options shared by verbs that talk to a mesh or ask it questions.</summary>
internal static class MeshOptions
{
    public static Option<string[]> Gateway() => new("--gateway")
    {
        Description = "Gateway endpoint host:port (repeatable). Default: the mesh started by `moemesh up`, or 127.0.0.1:30000.",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<bool> Json() => new("--json") { Description = "Write machine-readable JSON to stdout." };

    /// <summary>The options of a question: strategy, k, budgets, generation settings.</summary>
    public sealed class QueryOptionSet
    {
        public Option<RoutingStrategy> Strategy { get; } = new("--strategy")
        {
            Description = "Routing strategy: auto, single, fastest, cheapest, symbolic, moe2.",
            DefaultValueFactory = _ => RoutingStrategy.Auto,
        };

        public Option<int?> K { get; } = new("--k") { Description = "Most experts to run (excluding the aggregator)." };

        public Option<double?> BudgetMs { get; } = new("--budget-ms") { Description = "Latency budget for the whole query, in milliseconds." };

        public Option<double?> BudgetJ { get; } = new("--budget-j") { Description = "Energy budget for the whole query, in joules." };

        public Option<int> MaxTokens { get; } = new("--max-tokens") { Description = "Most tokens each expert generates.", DefaultValueFactory = _ => 64 };

        public Option<float> Temperature { get; } = new("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0f };

        public Option<uint> Seed { get; } = new("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 42u };

        public Option<string[]> Expert { get; } = new("--expert") { Description = "Use only this expert id (repeatable)." };

        public Option<string[]> Choice { get; } = new("--choice") { Description = "A multiple-choice option (repeatable, in order A, B, …); answers are then voted." };

        public void AddTo(Command command)
        {
            command.Options.Add(Strategy);
            command.Options.Add(K);
            command.Options.Add(BudgetMs);
            command.Options.Add(BudgetJ);
            command.Options.Add(MaxTokens);
            command.Options.Add(Temperature);
            command.Options.Add(Seed);
            command.Options.Add(Expert);
            command.Options.Add(Choice);
        }

        public Query ToQuery(ParseResult result, string prompt)
        {
            var options = new QueryOptions
            {
                Strategy = result.GetValue(Strategy),
                K = result.GetValue(K),
                LatencyBudgetMs = result.GetValue(BudgetMs),
                EnergyBudgetJoules = result.GetValue(BudgetJ),
                MaxTokens = result.GetValue(MaxTokens),
                Sampling = new SamplingOptions { Temperature = result.GetValue(Temperature), Seed = result.GetValue(Seed) },
                Experts = result.GetValue(Expert) ?? [],
            };
            return new Query { Messages = [ChatTurn.User(prompt)], Options = options, Choices = result.GetValue(Choice) ?? [] };
        }
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
