using System.Runtime.CompilerServices;
using MoeMesh.Devices;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Data;

namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// A real engine for evaluation: it answers MMLU-Pro questions with what one recorded model actually
/// answered and takes the time the cost model predicts for that model on this silo's device, so the
/// whole mesh (router, placement, failover, budgets) can be measured on real answers without model
/// weights. It only answers recorded questions.
/// </summary>
/// <remarks>
/// Per request: the question is found in the recording from the prompt (<see cref="ReplayRecording.Match"/>),
/// and a request that carries a <see cref="GenerationRequest.Panel"/> is an aggregator's;
/// the shape is the evaluation's (prompt tokens = ⌈question-and-options characters / chars per token⌉ +
/// template tokens; output tokens = the recorded length of this answer, else the model's mean recorded
/// length on the training split, else the assumed length, capped by the request's max tokens);
/// prefill, decode and energy are the roofline prior of <see cref="ExpertCostModel"/> for the device.
/// The first chunk comes after the prefill time and the rest after the decode time, both multiplied by
/// the time scale; the metrics carry those scaled times and the predicted (unscaled) energy, with
/// <see cref="GenerationMetrics.EnergySource"/> = <see cref="EnergySource"/> and
/// <see cref="GenerationMetrics.Simulated"/> set, so the router does not learn from them. Stateless per request and
/// safe for any number of concurrent calls.
/// </remarks>
public sealed class ReplayEngine : IExpertEngine
{
    /// <summary>The <see cref="GenerationMetrics.EnergySource"/> of replayed runs.</summary>
    public const string EnergySource = "replay";

    private readonly ReplayRecording _recording;
    private readonly int _slot;
    private readonly DeviceProfile _device;
    private readonly ExpertCostProfile _cost;
    private readonly ReplayEngineOptions _options;
    private readonly TimeProvider _time;
    private readonly int _assumedOutputTokens;

    internal ReplayEngine(
        ExpertManifest manifest,
        string recordedModel,
        ReplayRecording recording,
        int slot,
        DeviceProfile device,
        ExpertCostProfile cost,
        double timeScale,
        int assumedOutputTokens,
        ReplayEngineOptions options,
        TimeProvider time)
    {
        Manifest = manifest;
        RecordedModel = recordedModel;
        _recording = recording;
        _slot = slot;
        _device = device;
        _cost = cost;
        TimeScale = timeScale;
        _options = options;
        _time = time;
        _assumedOutputTokens = assumedOutputTokens;
    }

    public ExpertManifest Manifest { get; }

    /// <summary>The model whose recorded answers this expert replays.</summary>
    public string RecordedModel { get; }

    /// <summary>Wall-clock time per unit of predicted device time (0 = instant).</summary>
    public double TimeScale { get; }

    /// <summary>
    /// A replay expert holds no weights: what it keeps is its column of the shared recording (one
    /// answer per question), so placement and residency see it as small.
    /// </summary>
    public long ResidentBytes => _recording.Dataset.Questions.Count * 24L;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var run = Plan(request);
        if (run.TimeToFirstTokenMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(run.TimeToFirstTokenMs), _time, cancellationToken).ConfigureAwait(false);
        }

        yield return new GenerationChunk { Text = run.Opening };
        var decode = run.TotalMs - run.TimeToFirstTokenMs;
        if (decode > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(decode), _time, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        yield return new GenerationChunk { Text = run.Closing, Metrics = run.Metrics };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Everything a request will replay: the question, the answer, the shape and the predicted cost.
    /// Throws <see cref="InvalidRequestException"/> for a bad request or a question that is not
    /// recorded, and <see cref="ExpertUnavailableException"/> when this model has no recorded answer to it.
    /// </summary>
    internal ReplayRun Plan(GenerationRequest request)
    {
        InvalidRequestException.ThrowIfAny(request.Validate(), "generation request");
        var prompt = PromptOf(request);
        var match = _recording.Match(prompt);
        if (match.Question is not { } question)
        {
            throw new InvalidRequestException(
                $"The replay engine only answers recorded questions, and this prompt is not one of the {_recording.Dataset.Questions.Count} in {System.IO.Path.GetFileName(_recording.Path)} ({match.Problem}).");
        }

        if (!question.TryGetAnswer(_slot, out var recorded))
        {
            throw new ExpertUnavailableException(
                $"Expert '{Manifest.Id}' cannot answer question {question.QuestionId}: the recording has no answer of {RecordedModel} to it.");
        }

        IReadOnlyList<string?> panel = request.Panel is { } answers ? [.. answers.Select(a => a.Choice)] : [];
        var promptTokens = PromptTokens(question.PromptChars) + (panel.Count * _options.OutputTokens);
        var wanted = recorded.OutputChars > 0
            ? Math.Max(1, (int)Math.Round(recorded.OutputChars / _options.CharsPerToken))
            : _assumedOutputTokens;
        var outputTokens = Math.Min(wanted, request.MaxTokens);
        var cost = ExpertCostModel.Roofline(_cost, _device, new RequestShape(promptTokens, outputTokens), _options.CostModel);

        string opening;
        string closing;
        string? letter;
        if (panel.Count > 0)
        {
            // Aggregation as the evaluation simulates it: side with a panel answer that is the model's
            // own recorded answer, else name no letter and let the router's vote stand.
            letter = recorded.Prediction is { } own && panel.Contains(own) ? own : null;
            opening = ReplayTexts.AggregatorOpening;
            closing = letter is null ? ReplayTexts.AggregatorAbstains : ReplayTexts.AggregatorClosing(letter);
        }
        else
        {
            letter = recorded.Prediction;
            opening = letter is null ? ReplayTexts.NoLetterOpening : ReplayTexts.ResponderOpening;
            closing = letter is null ? ReplayTexts.NoLetterClosing : ReplayTexts.ResponderClosing(letter);
        }

        var ttft = cost.PrefillMs * TimeScale;
        var total = (cost.PrefillMs + cost.DecodeMs) * TimeScale;
        var metrics = new GenerationMetrics
        {
            PromptTokens = promptTokens,
            GeneratedTokens = outputTokens,
            TimeToFirstTokenMs = ttft,
            TotalMs = total,
            PrefillTokensPerSecond = cost.PrefillMs > 0 ? promptTokens / (cost.PrefillMs / 1000.0) : 0,
            DecodeTokensPerSecond = cost.DecodeMs > 0 ? outputTokens / (cost.DecodeMs / 1000.0) : 0,
            FinishReason = outputTokens < wanted ? FinishReason.MaxTokens : FinishReason.EndOfText,
            EnergyJoules = cost.EnergyJoules,
            EnergySource = EnergySource,
            Simulated = true,
        };
        return new ReplayRun(question, panel.Count > 0, letter, opening, closing, promptTokens, outputTokens, cost, ttft, total, metrics);
    }

    /// <summary>Prompt tokens of a question of <paramref name="promptChars"/> characters, as the evaluation counts them.</summary>
    internal int PromptTokens(int promptChars) => PromptTokenEstimate.Of(promptChars, _options.CharsPerToken, _options.PromptTemplateTokens);

    private static string PromptOf(GenerationRequest request)
    {
        if (request.RawPrompt is { } raw)
        {
            return raw;
        }

        for (var i = request.Messages.Count - 1; i >= 0; i--)
        {
            if (request.Messages[i].Role == ChatTurn.UserRole)
            {
                return request.Messages[i].Content;
            }
        }

        return request.Messages[^1].Content;
    }
}

/// <summary>What one request replays.</summary>
/// <param name="Question">The recorded question.</param>
/// <param name="Aggregating">True when the request was an aggregator's (it carried a panel of answers).</param>
/// <param name="Letter">The letter the text names, or null.</param>
/// <param name="Opening">The first chunk's text.</param>
/// <param name="Closing">The last chunk's text.</param>
/// <param name="PromptTokens">Prompt tokens, as the evaluation counts them.</param>
/// <param name="OutputTokens">Tokens generated.</param>
/// <param name="Cost">The predicted (unscaled) prefill, decode and energy.</param>
/// <param name="TimeToFirstTokenMs">Scaled time to the first chunk.</param>
/// <param name="TotalMs">Scaled time of the whole run.</param>
/// <param name="Metrics">The metrics the last chunk carries.</param>
internal sealed record ReplayRun(
    RecordedQuestion Question,
    bool Aggregating,
    string? Letter,
    string Opening,
    string Closing,
    int PromptTokens,
    int OutputTokens,
    CostEstimate Cost,
    double TimeToFirstTokenMs,
    double TotalMs,
    GenerationMetrics Metrics);
