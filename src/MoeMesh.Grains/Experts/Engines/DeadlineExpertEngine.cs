using System.Runtime.CompilerServices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Experts.Engines;

/// <summary>
/// Holds a generation to its <see cref="GenerationRequest.TimeBudgetMs"/>: caps the token count to
/// what the calibration says fits the time left (given the sequences already running), passes the
/// budget on so an engine that watches it stops at the deadline itself, and, for one that does not,
/// ends the run shortly after the deadline. Either way the stream ends normally, with
/// <see cref="FinishReason.Budget"/>, so the caller keeps the text produced in time.
/// </summary>
public sealed class DeadlineExpertEngine(
    IExpertEngine inner,
    Func<EngineCalibration?> calibration,
    Func<int> running,
    TimeProvider time) : DelegatingExpertEngine(inner)
{
    /// <summary>Extra time an engine that does not watch the deadline gets before it is stopped.</summary>
    public static TimeSpan Grace(double budgetMs) => TimeSpan.FromMilliseconds(Math.Max(5, budgetMs * 0.02));

    public override IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.TimeBudgetMs is { } budget
            ? WithDeadlineAsync(request, budget, cancellationToken)
            : Inner.GenerateAsync(request, cancellationToken);
    }

    private async IAsyncEnumerable<GenerationChunk> WithDeadlineAsync(GenerationRequest request, double budgetMs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var capped = request;
        if (calibration() is { } known)
        {
            var prompt = (int)Math.Ceiling(EngineCalibrator.EstimatePromptTokens(request) * known.PromptTokenRatio);
            var fit = EngineCalibrator.MaxOutputTokens(known, prompt, budgetMs, running());
            capped = request with { MaxTokens = Math.Min(request.MaxTokens, fit) };
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(budgetMs) + Grace(budgetMs), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token);
        var stream = Inner.GenerateAsync(capped, linked.Token).GetAsyncEnumerator(linked.Token);
        var chunks = 0;
        try
        {
            while (true)
            {
                GenerationChunk chunk;
                try
                {
                    if (!await stream.MoveNextAsync())
                    {
                        yield break;
                    }

                    chunk = stream.Current;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (chunk.Metrics is { } metrics)
                {
                    // A cap the budget imposed is the budget's doing, not the caller's token limit.
                    var byBudget = metrics.FinishReason == FinishReason.MaxTokens && capped.MaxTokens < request.MaxTokens;
                    yield return byBudget ? chunk with { Metrics = metrics with { FinishReason = FinishReason.Budget } } : chunk;
                    yield break;
                }

                chunks++;
                yield return chunk;
            }
        }
        finally
        {
            await stream.DisposeAsync();
        }

        // The engine ignored the deadline: end the stream here with what is known of the run.
        yield return new GenerationChunk
        {
            Metrics = new GenerationMetrics
            {
                GeneratedTokens = chunks,
                TotalMs = time.GetElapsedTime(started).TotalMilliseconds,
                FinishReason = FinishReason.Budget,
            },
        };
    }
}
