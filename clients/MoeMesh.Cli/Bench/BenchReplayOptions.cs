using System.CommandLine;
using MoeMesh.Cli.Mesh;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Queries;

namespace MoeMesh.Cli.Bench;

/// <summary>The options of <c>moemesh bench replay</c>, in the order its help lists them.</summary>
internal sealed class BenchReplayOptions
{
    private readonly Option<string> _queries = new("--queries") { Description = "Test-split questions to send: a number, or 'all' (2,409).", DefaultValueFactory = _ => "500" };
    private readonly Option<int> _concurrency = new("--concurrency") { Description = "Queries in flight: exactly this many without --rate, at most this many with it.", DefaultValueFactory = _ => 16 };
    private readonly Option<double?> _rate = new("--rate") { Description = "Send this many queries per second on a fixed schedule (open loop) instead of a closed loop." };
    private readonly Option<RoutingStrategy> _strategy = new("--strategy") { Description = "Routing strategy: auto, single, fastest, cheapest, symbolic, moe2.", DefaultValueFactory = _ => RoutingStrategy.Auto };
    private readonly Option<int?> _k = new("--k") { Description = "Most experts per query (the strategy's default when absent)." };
    private readonly Option<double?> _budgetMs = new("--budget-ms") { Description = "Latency budget per query, in milliseconds." };
    private readonly Option<double?> _budgetJ = new("--budget-j") { Description = "Energy budget per query, in joules." };
    private readonly Option<double> _timeScale = new("--time-scale") { Description = "Wall-clock time per predicted unit of expert time: 0 answers at once (measures the mesh's own overhead), 1 is real time.", DefaultValueFactory = _ => 0 };
    private readonly Option<int> _outputTokens = new("--output-tokens") { Description = "Output tokens assumed where the recording has no length (every edge model), as in moemesh eval; also each query's max tokens.", DefaultValueFactory = _ => 256 };
    private readonly Option<double?> _killAfter = new("--kill-silo-after") { Description = "Kill one silo process this many seconds into the measured run." };
    private readonly Option<int?> _killSilo = new("--kill-silo") { Description = "Which silo --kill-silo-after kills, by its position in --silos from 1 (default: the last; the first holds the local mesh's membership)." };
    private readonly Option<string> _silos = new("--silos") { Description = "Comma-separated device profiles, one silo process each; must include the devices of the evaluation's default assignment.", DefaultValueFactory = _ => BenchReplayCommand.DefaultSilos };
    private readonly Option<int> _siloPort = new("--silo-port") { Description = "First silo port.", DefaultValueFactory = _ => 22111 };
    private readonly Option<int> _gatewayPort = new("--gateway-port") { Description = "First gateway port.", DefaultValueFactory = _ => 32111 };
    private readonly Option<string[]> _siloSetting = new("--silo-setting") { Description = "Extra silo configuration Key=Value for every silo (repeatable)." };
    private readonly Option<string?> _data = new("--data") { Description = "Folder (or file) of the recorded outputs; default: shared/data/mmlu-pro-29 found above the current folder." };
    private readonly Option<int> _warmup = new("--warmup") { Description = "Training-split questions sent before measuring (not reported).", DefaultValueFactory = _ => 100 };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the order in which test questions are drawn.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _evalRouter = new("--eval-router")
    {
        Description = $"The moemesh eval router to compare with: auto (moe2 for auto/single/moe2, symbolic-agg for symbolic), none, or one of {string.Join(", ", RouterNames.All)}.",
        DefaultValueFactory = _ => "auto",
    };

    private readonly Option<double> _queryTimeout = new("--query-timeout") { Description = "Seconds one query may take before it counts as failed.", DefaultValueFactory = _ => 300 };
    private readonly Option<bool> _json = MeshOptions.Json();

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Option[] all =
        [
            _queries, _concurrency, _rate, _strategy, _k, _budgetMs, _budgetJ, _timeScale, _outputTokens, _killAfter, _killSilo, _silos, _siloPort, _gatewayPort, _siloSetting,
            _data, _warmup, _seed, _evalRouter, _queryTimeout, _json,
        ];
        foreach (var option in all)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The checked bench arguments; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public ReplayBenchArguments Arguments(ParseResult parse) => ReplayBenchArguments.Parse(
        parse.GetValue(_queries)!, parse.GetValue(_concurrency), parse.GetValue(_rate), parse.GetValue(_strategy), parse.GetValue(_k),
        parse.GetValue(_budgetMs), parse.GetValue(_budgetJ), parse.GetValue(_timeScale), parse.GetValue(_outputTokens), parse.GetValue(_killAfter),
        parse.GetValue(_killSilo), parse.GetValue(_silos)!, parse.GetValue(_warmup), parse.GetValue(_evalRouter)!, parse.GetValue(_queryTimeout));

    /// <summary>Where the local mesh runs and what every silo is told besides the bench's own settings.</summary>
    public ReplayMeshSettings Mesh(ParseResult parse) => new(parse.GetValue(_siloPort), parse.GetValue(_gatewayPort), parse.GetValue(_siloSetting) ?? []);

    public string? Data(ParseResult parse) => parse.GetValue(_data);

    public int Seed(ParseResult parse) => parse.GetValue(_seed);

    public bool Json(ParseResult parse) => parse.GetValue(_json);
}

/// <summary>The local mesh's first silo and gateway ports and the extra settings every silo gets.</summary>
internal sealed record ReplayMeshSettings(int SiloPort, int GatewayPort, IReadOnlyList<string> SiloSettings);
