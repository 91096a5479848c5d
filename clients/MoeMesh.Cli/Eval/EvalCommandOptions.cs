using System.CommandLine;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Cli.Eval;

/// <summary>What <c>moemesh eval</c> was asked, as parsed from its command line.</summary>
internal sealed record EvalArguments
{
    public string? Data { get; init; }

    public required string Pool { get; init; }

    public required string Router { get; init; }

    public int K { get; init; }

    public double? BudgetMs { get; init; }

    public double? BudgetJ { get; init; }

    public required string Devices { get; init; }

    public string? Profiles { get; init; }

    public int OutputTokens { get; init; }

    public int Seed { get; init; }

    public bool Sweep { get; init; }

    public bool Json { get; init; }

    public string? Plot { get; init; }

    public required string Embeddings { get; init; }

    public string? Cache { get; init; }

    public string? SaveFit { get; init; }

    public bool Probe { get; init; }
}

/// <summary>The options of <c>moemesh eval</c>, in the order its help lists them.</summary>
internal sealed class EvalCommandOptions
{
    private readonly Option<string?> _data = new("--data") { Description = "Folder (or file) of the recorded outputs; default: shared/data/mmlu-pro-29 found above the current folder." };
    private readonly Option<string> _pool = new("--pool") { Description = "Experts to route among: edge (12 open models that fit one edge box) or all (29).", DefaultValueFactory = _ => "edge" };
    private readonly Option<string> _router = new("--router")
    {
        Description = $"Routers to evaluate: all, or a comma-separated list of {string.Join(", ", RouterNames.All)}.",
        DefaultValueFactory = _ => "all",
    };

    private readonly Option<int> _k = new("--k") { Description = "The most experts a plan may run.", DefaultValueFactory = _ => 3 };
    private readonly Option<double?> _budgetMs = new("--budget-ms") { Description = "Latency budget per query, in milliseconds." };
    private readonly Option<double?> _budgetJ = new("--budget-j") { Description = "Energy budget per query, in joules." };
    private readonly Option<string> _devices = new("--devices")
    {
        Description = "Where experts run: default, or device:expert,expert;device:expert with device ids from deploy/profiles (or 'cloud').",
        DefaultValueFactory = _ => "default",
    };

    private readonly Option<string?> _profiles = new("--profiles") { Description = "Folder of device profile JSON files; default: deploy/profiles found above the current folder." };
    private readonly Option<int> _outputTokens = new("--output-tokens")
    {
        Description = "Output tokens assumed per answer where the recording kept no output length.",
        DefaultValueFactory = _ => new EvaluationOptions().DefaultOutputTokens,
    };

    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the random baseline and of sampled recruiting.", DefaultValueFactory = _ => 1 };
    private readonly Option<bool> _sweep = new("--sweep") { Description = "Also sweep energy budgets (shares of the best single expert's energy)." };
    private readonly Option<bool> _json = new("--json") { Description = "Write the results as JSON." };
    private readonly Option<string?> _plot = new("--plot") { Description = "Write an accuracy-versus-energy chart (PNG) of every router, the budget sweeps and the Pareto front." };
    private readonly Option<string> _embeddings = new("--embeddings")
    {
        Description = "Sentence embeddings the routers read: minilm (all-MiniLM-L6-v2, computed once and cached) or none.",
        DefaultValueFactory = _ => "minilm",
    };

    private readonly Option<string?> _cache = new("--cache") { Description = "Folder of cached question embeddings; default: ~/.moemesh/cache/embeddings." };
    private readonly Option<string?> _saveFit = new("--save-fit") { Description = "Write the routers fitted on the training split to this file, for a silo's MoeMesh:Routing:FitFile." };
    private readonly Option<bool> _probe = new("--probe")
    {
        Description = "Instead of routing, cross-validate per-expert correctness estimators (category, source, nearest questions by embedding) on the training split.",
    };

    public EvalCommandOptions()
    {
        _pool.AcceptOnlyFromAmong("edge", "all");
        _embeddings.AcceptOnlyFromAmong("minilm", "none");
    }

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Option[] all = [_data, _pool, _router, _k, _budgetMs, _budgetJ, _devices, _profiles, _outputTokens, _seed, _sweep, _json, _plot, _embeddings, _cache, _saveFit, _probe];
        foreach (var option in all)
        {
            command.Options.Add(option);
        }
    }

    public EvalArguments Read(ParseResult parse) => new()
    {
        Data = parse.GetValue(_data),
        Pool = parse.GetValue(_pool)!,
        Router = parse.GetValue(_router)!,
        K = parse.GetValue(_k),
        BudgetMs = parse.GetValue(_budgetMs),
        BudgetJ = parse.GetValue(_budgetJ),
        Devices = parse.GetValue(_devices)!,
        Profiles = parse.GetValue(_profiles),
        OutputTokens = parse.GetValue(_outputTokens),
        Seed = parse.GetValue(_seed),
        Sweep = parse.GetValue(_sweep),
        Json = parse.GetValue(_json),
        Plot = parse.GetValue(_plot),
        Embeddings = parse.GetValue(_embeddings)!,
        Cache = parse.GetValue(_cache),
        SaveFit = parse.GetValue(_saveFit),
        Probe = parse.GetValue(_probe),
    };
}
