using System.Globalization;
using MoeMesh.Queries;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Cli.Bench;

/// <summary>The checked arguments of <c>moemesh bench replay</c>.</summary>
public sealed record ReplayBenchArguments
{
    /// <summary>Test questions to send; null for all of them.</summary>
    public int? Queries { get; init; }

    public int Concurrency { get; init; }

    public double? Rate { get; init; }

    public RoutingStrategy Strategy { get; init; }

    public int? K { get; init; }

    public double? BudgetMs { get; init; }

    public double? BudgetJ { get; init; }

    public double TimeScale { get; init; }

    public int OutputTokens { get; init; }

    public double? KillAfterSeconds { get; init; }

    /// <summary>The silo to kill, from 1; null for the last.</summary>
    public int? KillSilo { get; init; }

    public required IReadOnlyList<string> Silos { get; init; }

    public int Warmup { get; init; }

    /// <summary>The eval router to compare with, or null for none.</summary>
    public string? EvalRouter { get; init; }

    public TimeSpan QueryTimeout { get; init; }

    /// <summary>How the runner sends queries with these arguments.</summary>
    public ReplayLoad Load(QueryOptions options) => new(Concurrency, Rate, options, QueryTimeout);

    /// <summary>Checks every argument; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public static ReplayBenchArguments Parse(
        string queries, int concurrency, double? rate, RoutingStrategy strategy, int? k, double? budgetMs, double? budgetJ, double timeScale,
        int outputTokens, double? killAfter, int? killSilo, string silos, int warmup, string evalRouter, double queryTimeout)
    {
        var count = ParseQueries(queries);
        CheckLoad(concurrency, rate);
        CheckQueryOptions(k, budgetMs, budgetJ);
        CheckReplay(timeScale, outputTokens);
        CheckKill(killAfter, killSilo);
        var siloList = ParseSilos(silos, killAfter);
        CheckWarmupAndTimeout(warmup, queryTimeout);
        var router = ParseEvalRouter(evalRouter, strategy);
        return new ReplayBenchArguments
        {
            Queries = count,
            Concurrency = concurrency,
            Rate = rate,
            Strategy = strategy,
            K = k,
            BudgetMs = budgetMs,
            BudgetJ = budgetJ,
            TimeScale = timeScale,
            OutputTokens = outputTokens,
            KillAfterSeconds = killAfter,
            KillSilo = killSilo,
            Silos = siloList,
            Warmup = warmup,
            EvalRouter = router,
            QueryTimeout = TimeSpan.FromSeconds(queryTimeout),
        };
    }

    /// <summary>--queries: a positive number, or null for 'all'.</summary>
    private static int? ParseQueries(string queries)
    {
        if (queries.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!int.TryParse(queries, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 1)
        {
            throw new ArgumentException($"--queries must be a positive number or 'all', got '{queries}'");
        }

        return n;
    }

    /// <summary>How queries are sent: --concurrency and --rate.</summary>
    private static void CheckLoad(int concurrency, double? rate)
    {
        if (concurrency is < 1 or > 4096)
        {
            throw new ArgumentException($"--concurrency must be between 1 and 4096, got {concurrency}");
        }

        if (rate is { } r && (!double.IsFinite(r) || r <= 0 || r > 100_000))
        {
            throw new ArgumentException($"--rate must be a positive number of queries per second (at most 100000), got {r}");
        }
    }

    /// <summary>What each query asks of the router: --k and the budgets.</summary>
    private static void CheckQueryOptions(int? k, double? budgetMs, double? budgetJ)
    {
        if (k is < 1 or > QueryOptions.MaxExpertsLimit)
        {
            throw new ArgumentException($"--k must be between 1 and {QueryOptions.MaxExpertsLimit}, got {k}");
        }

        if (budgetMs is { } ms && (!double.IsFinite(ms) || ms <= 0))
        {
            throw new ArgumentException($"--budget-ms must be a positive number of milliseconds, got {ms}");
        }

        if (budgetJ is { } j && (!double.IsFinite(j) || j <= 0))
        {
            throw new ArgumentException($"--budget-j must be a positive number of joules, got {j}");
        }
    }

    /// <summary>How the replay experts answer: --time-scale and --output-tokens.</summary>
    private static void CheckReplay(double timeScale, int outputTokens)
    {
        if (!double.IsFinite(timeScale) || timeScale < 0 || timeScale > Evaluation.Replay.ReplayEngineOptions.MaxTimeScale)
        {
            throw new ArgumentException($"--time-scale must be between 0 and {Evaluation.Replay.ReplayEngineOptions.MaxTimeScale}, got {timeScale}");
        }

        if (outputTokens is < 1 or > 32_768)
        {
            throw new ArgumentException($"--output-tokens must be between 1 and 32768, got {outputTokens}");
        }
    }

    /// <summary>--kill-silo-after and --kill-silo, apart from the silo count.</summary>
    private static void CheckKill(double? killAfter, int? killSilo)
    {
        if (killAfter is { } after && (!double.IsFinite(after) || after < 0))
        {
            throw new ArgumentException($"--kill-silo-after must be zero or more seconds, got {after}");
        }

        if (killSilo is not null && killAfter is null)
        {
            throw new ArgumentException("--kill-silo needs --kill-silo-after (when to kill it)");
        }

        if (killSilo is < 1)
        {
            throw new ArgumentException($"--kill-silo is a silo's position in --silos, from 1; got {killSilo}");
        }

        if (killSilo == 1)
        {
            throw new ArgumentException(
                "--kill-silo 1 would kill the first silo, which holds the local mesh's membership table (localhost clustering): the other silos could not " +
                "agree on membership without it. Kill another silo, or run the mesh with Redis or PostgreSQL clustering to survive any silo's loss");
        }
    }

    /// <summary>--silos: at least one device profile, two when a silo is to be killed.</summary>
    private static string[] ParseSilos(string silos, double? killAfter)
    {
        var siloList = silos.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (siloList.Length == 0)
        {
            throw new ArgumentException("--silos names no device profile");
        }

        if (killAfter is not null && siloList.Length < 2)
        {
            throw new ArgumentException("--kill-silo-after needs at least two silos");
        }

        return siloList;
    }

    private static void CheckWarmupAndTimeout(int warmup, double queryTimeout)
    {
        if (warmup is < 0 or > 100_000)
        {
            throw new ArgumentException($"--warmup must be between 0 and 100000 questions, got {warmup}");
        }

        if (!double.IsFinite(queryTimeout) || queryTimeout <= 0)
        {
            throw new ArgumentException($"--query-timeout must be a positive number of seconds, got {queryTimeout}");
        }
    }

    /// <summary>--eval-router: none (null), auto (the strategy's router) or a router's name.</summary>
    private static string? ParseEvalRouter(string evalRouter, RoutingStrategy strategy) => evalRouter.Trim().ToLowerInvariant() switch
    {
        "none" => null,
        "auto" => ReplayEvalPrediction.RouterFor(strategy),
        var name when RouterNames.All.Contains(name) => name,
        var name => throw new ArgumentException($"--eval-router '{name}' is unknown; use auto, none or one of {string.Join(", ", RouterNames.All)}"),
    };
}
