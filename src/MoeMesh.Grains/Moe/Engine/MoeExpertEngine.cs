using System.Diagnostics;
using System.Runtime.CompilerServices;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.Engine;

/// <summary>
/// An expert whose model is a Mixture-of-Experts spread over silos: each request becomes a fresh
/// sequence on the model's backbone grain, exact and greedy; text maps to tokens by <see cref="MoeTokenText"/>.
/// </summary>
internal sealed class MoeExpertEngine(ExpertManifest manifest, MoeModelShape shape, IGrainFactory grains) : IExpertEngine
{
    public ExpertManifest Manifest => manifest;

    /// <summary>The weights live in the backbone and shard grains, which account for themselves.</summary>
    public long ResidentBytes => 0;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        InvalidRequestException.ThrowIfAny(request.Validate(), "generation request");
        var prompt = MoeTokenText.Encode(request.RawPrompt ?? string.Join("\n", request.Messages.Select(m => m.Content)), shape.VocabularySize);
        var context = Math.Min(manifest.ContextSize, shape.ContextLength);
        if (prompt.Length == 0 || prompt.Length >= context)
        {
            throw new InvalidRequestException($"The prompt has {prompt.Length} tokens; '{manifest.Id}' takes 1 to {context - 1}.");
        }

        var started = Stopwatch.GetTimestamp();
        var maxTokens = Math.Min(request.MaxTokens, context - prompt.Length);
        var sequence = grains.GetGrain<IMoeBackboneGrain>($"{manifest.Id}/{Guid.NewGuid():N}");
        var result = await sequence.GenerateAsync(new MoeGenerationRequest { PromptTokens = prompt, MaxTokens = maxTokens }, cancellationToken);
        foreach (var token in result.Tokens)
        {
            yield return new GenerationChunk { Text = MoeTokenText.Decode(token) };
        }

        var totalMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        yield return new GenerationChunk
        {
            Metrics = new GenerationMetrics
            {
                PromptTokens = prompt.Length,
                GeneratedTokens = result.Tokens.Length,
                TotalMs = totalMs,
                TimeToFirstTokenMs = totalMs,
                DecodeTokensPerSecond = result.Elapsed > TimeSpan.Zero ? result.Steps / result.Elapsed.TotalSeconds : 0,
                FinishReason = result.Tokens.Length < maxTokens ? FinishReason.EndOfText : FinishReason.MaxTokens,
            },
        };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Serves manifests with <c>engine: "moe"</c>.</summary>
internal sealed class MoeExpertEngineProvider(MoeModelFiles files, IGrainFactory grains) : IExpertEngineProvider
{
    public string Engine => ExpertEngines.Moe;

    public Task<IExpertEngine> LoadAsync(ExpertManifest manifest, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        MoeModelShape shape;
        try
        {
            shape = files.Loader(manifest.Id).ReadShape(files.PathOf(manifest.Id));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or NotSupportedException)
        {
            throw new ExpertUnavailableException($"Expert '{manifest.Id}': {ex.Message}", ex);
        }

        progress?.Report(1);
        return Task.FromResult<IExpertEngine>(new MoeExpertEngine(manifest, shape, grains));
    }
}
