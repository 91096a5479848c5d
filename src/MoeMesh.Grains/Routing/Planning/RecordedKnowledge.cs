using System.Collections.Concurrent;
using System.IO.Compression;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Devices;
using MoeMesh.Embeddings;
using MoeMesh.Grains.Hosting;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;
using MoeMesh.Routing.Text;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>What the router learned for one pool of recorded experts, fitted on the training split only.</summary>
/// <param name="Pool">The recorded model names, in the order candidates index them.</param>
/// <param name="Environment">The fitting environment: prompt and output token rules, fitted output lengths.</param>
/// <param name="Moe2">MoE² planning over the trained gate.</param>
/// <param name="Symbolic">Symbolic-MoE planning over the skill profiles.</param>
/// <param name="Aggregator">Index in <paramref name="Pool"/> of the aggregator chosen on the training split.</param>
public sealed record PoolKnowledge(
    IReadOnlyList<string> Pool,
    RoutingEnvironment Environment,
    Moe2Planner Moe2,
    SymbolicPlanner Symbolic,
    int Aggregator,
    AdaptiveK? Adaptive = null,
    Func<string, float[]>? Embed = null)
{
    public int IndexOf(string recordedModel)
    {
        for (var i = 0; i < Pool.Count; i++)
        {
            if (string.Equals(Pool[i], recordedModel, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// The router's learning from recorded model outputs: the dataset read once, a lexical skill
/// extractor, and per pool of recorded experts a gate, skill profiles and an aggregator, each
/// fitted once on the training split exactly as <c>moemesh eval</c> fits them, so the live mesh
/// decides what the evaluation predicts.
/// </summary>
public sealed partial class RecordedKnowledge(IOptions<RouterOptions> options, ILogger<RecordedKnowledge> logger, IServiceProvider? services = null)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<PoolKnowledge>>> _pools = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Task<TrainingSet>? _training;
    private Task<LexicalSkillExtractor>? _skills;
    private Task<RoutingFit?>? _fit;
    private Task<QuestionEmbeddings>? _embeddings;
    private string? _dataFile;

    /// <summary>True when training data is configured.</summary>
    public bool Available => !string.IsNullOrWhiteSpace(options.Value.TrainingData);

    /// <summary>The lexical skill extractor learned from the training split; null without training data.</summary>
    public async Task<LexicalSkillExtractor?> SkillsAsync(CancellationToken cancellationToken = default)
    {
        if (!Available)
        {
            return null;
        }

        Task<LexicalSkillExtractor> skills;
        lock (_gate)
        {
            skills = _skills ??= Task.Run(async () => LexicalSkillExtractor.Fit(await TrainingAsync().ConfigureAwait(false)));
        }

        return await skills.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What the router knows for <paramref name="pool"/> (recorded model names); fitted on first use, then
    /// shared. While a pool is being fitted, the smallest pool already fitted that holds all of its models
    /// stands in (its gate and profiles score each expert on its own), so a lost silo, which shrinks the
    /// pool, does not hold queries up for seconds of fitting.
    /// </summary>
    public Task<PoolKnowledge> ForPoolAsync(IReadOnlyList<string> pool)
    {
        var ordered = pool.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var key = string.Join('\n', ordered);
        var fit = _pools.GetOrAdd(key, _ => new Lazy<Task<PoolKnowledge>>(() => Task.Run(() => FitAsync(ordered)))).Value;
        if (fit.IsCompleted)
        {
            return fit;
        }

        PoolKnowledge? standIn = null;
        foreach (var (_, other) in _pools)
        {
            if (other.IsValueCreated && other.Value.IsCompletedSuccessfully && other.Value.Result is { } fitted
                && fitted.Pool.Count > ordered.Length && (standIn is null || fitted.Pool.Count < standIn.Pool.Count)
                && ordered.All(m => fitted.IndexOf(m) >= 0))
            {
                standIn = fitted;
            }
        }

        return standIn is null ? fit : Task.FromResult(standIn);
    }

    private async Task<PoolKnowledge> FitAsync(string[] pool)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var train = await TrainingAsync().ConfigureAwait(false);
        var evaluation = new EvaluationOptions();
        var profiles = new Dictionary<string, DeviceProfile>(StringComparer.Ordinal)
        {
            [DeviceAssignment.JetsonId] = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = DeviceAssignment.JetsonId }),
            [DeviceAssignment.Rtx4090Id] = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = DeviceAssignment.Rtx4090Id }),
        };

        // The devices of the fitting environment only shape eval's cost tables; the fitted gate,
        // profiles, aggregator and output lengths depend on the pool and the training split alone.
        var fit = await FitFileAsync().ConfigureAwait(false);
        if (fit is not null && pool.All(m => fit.Pool.Contains(m, StringComparer.Ordinal)))
        {
            return FromFit(fit, train, profiles, evaluation, started);
        }

        var environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), profiles, evaluation);
        var embed = options.Value.Embeddings == "minilm" ? Embedder().Embed : (Func<string, float[]>?)null;
        var vectors = embed is null ? null : await QuestionEmbeddingsAsync().ConfigureAwait(false);
        var factory = new RouterFactory(train, environment, null, vectors, embed);
        var gate = factory.FitGate();
        // The gate's own skill model, when fitted with the default settings, is the one the silo would
        // fit again: sharing it lets a plan work out a query's skill probabilities once.
        var skills = gate.Featurizer.Skills is { } gateSkills && gateSkills.Options == new LexicalSkillOptions()
            ? gateSkills
            : await SkillsAsync().ConfigureAwait(false) ?? factory.FitSkills();
        var recruiter = factory.FitRecruiter();
        var aggregator = factory.FitAggregator();
        var knowledge = new PoolKnowledge(
            pool,
            environment,
            new Moe2Planner(gate),
            new SymbolicPlanner(skills, recruiter, RecruitMode.TopK),
            Array.IndexOf(pool, aggregator.Expert),
            options.Value.AdaptiveK ? factory.FitAdaptive() : null,
            embed);
        LogFitted(logger, pool.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, aggregator.Expert);
        return knowledge;
    }

    private PoolKnowledge FromFit(RoutingFit fit, TrainingSet train, Dictionary<string, DeviceProfile> profiles, EvaluationOptions evaluation, long started)
    {
        Func<string, float[]>? embed = null;
        if (fit.EmbeddingModel.Length > 0)
        {
            var embedder = Embedder();
            embed = embedder.ModelId == fit.EmbeddingModel
                ? embedder.Embed
                : throw new MoeMeshConfigurationException($"MoeMesh:Routing:FitFile was fitted on {fit.EmbeddingModel} embeddings, but this silo's embedder is {embedder.ModelId}.");
        }

        var environment = RoutingEnvironment.Create(train, fit.Pool, DeviceAssignment.DefaultFor(fit.Pool), profiles, evaluation);
        var recruiter = new SkillRecruiter(fit.Profiles, embed is null ? null : new EmbeddingKeywordMatcher(fit.Profiles.Keywords, embed));
        var knowledge = new PoolKnowledge(
            fit.Pool,
            environment,
            new Moe2Planner(fit.Gate),
            new SymbolicPlanner(fit.Skills, recruiter, RecruitMode.TopK),
            fit.Pool.ToList().IndexOf(fit.Aggregator),
            options.Value.AdaptiveK ? fit.Adaptive : null,
            embed);
        LogFitLoaded(logger, options.Value.FitFile!, fit.Pool.Count, fit.GateName, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        return knowledge;
    }

    private ITextEmbedder Embedder()
        => services?.GetService(typeof(ITextEmbedder)) as ITextEmbedder
            ?? throw new MoeMeshConfigurationException("Routing with embeddings needs an ITextEmbedder; AddMoeMesh registers the MiniLM one.");

    private Task<RoutingFit?> FitFileAsync()
    {
        lock (_gate)
        {
            return _fit ??= Task.Run(() =>
            {
                if (string.IsNullOrWhiteSpace(options.Value.FitFile))
                {
                    return (RoutingFit?)null;
                }

                try
                {
                    var fit = RoutingFit.Load(options.Value.FitFile);
                    var hash = EmbeddingCache.HashFile(DataFile());
                    return fit.DataHash == hash
                        ? fit
                        : throw new MoeMeshConfigurationException($"MoeMesh:Routing:FitFile was fitted on another data file (hash {fit.DataHash}) than MoeMesh:Routing:TrainingData (hash {hash}).");
                }
                catch (InvalidDataException e)
                {
                    throw new MoeMeshConfigurationException($"MoeMesh:Routing:FitFile cannot be read: {e.Message}");
                }
            });
        }
    }

    private Task<QuestionEmbeddings> QuestionEmbeddingsAsync()
    {
        lock (_gate)
        {
            return _embeddings ??= Task.Run(async () =>
            {
                var train = await TrainingAsync().ConfigureAwait(false);
                var embedder = Embedder();
                var texts = train.Questions.Select(q => (q.QuestionId, q.Question)).ToArray();
                var progress = new Progress<EmbeddingProgress>(p =>
                {
                    if (p.Done % 1000 == 0 || p.Done == p.Total)
                    {
                        LogEmbedding(logger, p.Done, p.Total);
                    }
                });
                var vectors = EmbeddingCache.LoadOrCompute(DataFile(), texts, embedder, options.Value.EmbeddingCache, progress, m => LogCacheWarning(logger, m));
                return new QuestionEmbeddings(vectors, embedder.Dimension);
            });
        }
    }

    private string DataFile()
    {
        if (_dataFile is null)
        {
            var path = options.Value.TrainingData!;
            _dataFile = Directory.Exists(path) ? Path.Combine(path, "mmlu_pro_29_models.jsonl.gz") : path;
        }

        return _dataFile;
    }

    private Task<TrainingSet> TrainingAsync()
    {
        lock (_gate)
        {
            return _training ??= Task.Run(LoadTraining);
        }
    }

    private TrainingSet LoadTraining()
    {
        var path = options.Value.TrainingData!;
        var file = Directory.Exists(path) ? Path.Combine(path, "mmlu_pro_29_models.jsonl.gz") : path;
        if (!File.Exists(file))
        {
            throw new MoeMeshConfigurationException($"MoeMesh:Routing:TrainingData points at '{path}', where no recorded outputs (mmlu_pro_29_models.jsonl.gz) exist.");
        }

        using var stream = File.OpenRead(file);
        var dataset = RecordedDatasetReader.Read(stream);

        // Only the training split is kept: nothing the router fits can see a test question.
        var train = DataSplit.Default.Train(dataset);
        LogLoaded(logger, file, train.Questions.Count);
        return train;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded the routing fit {File} for {Experts} recorded experts (gate {Gate}) in {Seconds:0.0} s")]
    private static partial void LogFitLoaded(ILogger logger, string file, int experts, string gate, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedding training questions for routing: {Done} of {Total}")]
    private static partial void LogEmbedding(ILogger logger, int done, int total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing embedding cache: {Message}")]
    private static partial void LogCacheWarning(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Routing training data {File}: {Questions} training questions")]
    private static partial void LogLoaded(ILogger logger, string file, int questions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fitted the router for {Experts} recorded experts in {Seconds:0.0} s (aggregator {Aggregator})")]
    private static partial void LogFitted(ILogger logger, int experts, double seconds, string aggregator);
}
