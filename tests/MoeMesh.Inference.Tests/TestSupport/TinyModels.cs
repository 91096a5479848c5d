using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Llama;
using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Inference.Tests.TestSupport;

/// <summary>The outcome of one generation, collected from its stream.</summary>
public sealed record GenerationResult(string Text, IReadOnlyList<string> Chunks, GenerationMetrics Metrics);

/// <summary>
/// Tiny synthesized models shared by the engine tests (written once per test run), and helpers to
/// load and run them. Each test loads its own engine, so no state leaks between tests.
/// </summary>
public sealed class TinyModels : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public TinyModels()
    {
        Default = TinyLlamaSynthesizer.Write(_directory.File("tiny.gguf"), new TinyLlamaOptions { Seed = 7 }).Path;
        Chain = TinyLlamaSynthesizer.Write(_directory.File("chain.gguf"), new TinyLlamaOptions { Seed = 7, ContextInfluence = 0 }).Path;
        Provider = new LlamaEngineProvider(new LlamaEngineOptions { Threads = 1, SequencesPerContext = 4 });
    }

    /// <summary>2 layers, hidden 64, byte-fallback vocabulary of 512, chatml template.</summary>
    public string Default { get; }

    /// <summary>Like <see cref="Default"/> but context has no influence: greedy output follows the token chain exactly.</summary>
    public string Chain { get; }

    public LlamaEngineProvider Provider { get; }

    public string Folder => _directory.Path;

    public static ExpertManifest Manifest(string path, int contextSize = 512, IReadOnlyDictionary<string, string>? engineOptions = null, string id = "tiny") => new()
    {
        Id = id,
        Engine = ExpertEngines.LlamaCpp,
        ModelPath = path,
        ContextSize = contextSize,
        Quantization = "F32",
        EngineOptions = engineOptions ?? new Dictionary<string, string>(),
    };

    public Task<LlamaEngine> LoadAsync(string? path = null, int contextSize = 512, IReadOnlyDictionary<string, string>? engineOptions = null) =>
        Provider.LoadAsync(Manifest(path ?? Default, contextSize, engineOptions));

    public static GenerationRequest Greedy(string prompt, int maxTokens = 32) =>
        GenerationRequest.FromPrompt(prompt) with { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy };

    public static async Task<GenerationResult> RunAsync(IExpertEngine engine, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var chunks = new List<string>();
        GenerationMetrics? metrics = null;
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken))
        {
            chunks.Add(chunk.Text);
            metrics = chunk.Metrics ?? metrics;
        }

        return new GenerationResult(string.Concat(chunks), chunks, metrics ?? throw new InvalidOperationException("The stream ended without metrics."));
    }

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TinyModelsCollection : ICollectionFixture<TinyModels>
{
    public const string Name = "tiny models";
}
