using System.Runtime.CompilerServices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>
/// An engine whose speeds are set by the test: it reports the metrics a real engine at those speeds
/// would (overhead, prompt at the prefill rate, tokens after the first at the decode rate) without
/// taking the time, so calibration is tested on exact figures, never on this machine's clock.
/// </summary>
public sealed class KnownSpeedEngine(ExpertManifest manifest) : IExpertEngine
{
    public double PrefillMsPerToken { get; set; } = 0.5;

    public double DecodeMsPerToken { get; set; } = 10;

    public double OverheadMs { get; set; } = 5;

    /// <summary>Tokens a run produces unless its request allows fewer.</summary>
    public int NaturalOutputTokens { get; set; } = 64;

    public List<GenerationRequest> Requests { get; } = [];

    public ExpertManifest Manifest => manifest;

    public long ResidentBytes => 1;

    /// <summary>Prompt tokens of a request as this engine counts them: one per word of a raw prompt, one per four characters of messages.</summary>
    public static int PromptTokens(GenerationRequest request)
        => request.RawPrompt is { } raw
            ? raw.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length
            : request.Messages.Sum(m => m.Content.Length) / 4;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Requests.Add(request);
        var prompt = PromptTokens(request);
        var output = Math.Min(request.MaxTokens, NaturalOutputTokens);
        for (var i = 0; i < output; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new GenerationChunk { Text = "x" };
        }

        var prefill = prompt * PrefillMsPerToken;
        var decode = (output - 1) * DecodeMsPerToken;
        yield return new GenerationChunk
        {
            Metrics = new GenerationMetrics
            {
                PromptTokens = prompt,
                GeneratedTokens = output,
                TimeToFirstTokenMs = OverheadMs + prefill,
                TotalMs = OverheadMs + prefill + decode,
                PrefillTokensPerSecond = prefill > 0 ? prompt / (prefill / 1000) : 0,
                DecodeTokensPerSecond = decode > 0 ? (output - 1) / (decode / 1000) : 0,
                FinishReason = output < NaturalOutputTokens ? FinishReason.MaxTokens : FinishReason.EndOfText,
            },
        };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
