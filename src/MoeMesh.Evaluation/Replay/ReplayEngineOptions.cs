using Microsoft.Extensions.Options;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// Settings of the replay engine, shared by every expert it loads. The defaults are those of
/// <c>moemesh eval</c> (<see cref="Routing.Fitting.EvaluationOptions"/>), so a replayed run takes
/// the time and energy the evaluation predicts for it. An expert's manifest can override
/// <see cref="TimeScale"/> and <see cref="OutputTokens"/> through its <c>engineOptions</c>
/// (<c>"time_scale"</c>, <c>"output_tokens"</c>).
/// </summary>
public sealed class ReplayEngineOptions
{
    /// <summary>The largest accepted time scale (a replayed second may last at most this many seconds).</summary>
    public const double MaxTimeScale = 1000;

    /// <summary>The most output tokens a replayed answer may be assumed to have.</summary>
    public const int MaxOutputTokens = 32_768;

    /// <summary>
    /// The recorded-outputs file (<c>mmlu_pro_29_models.jsonl.gz</c>) or its folder, used for experts
    /// whose manifest has no <c>modelPath</c>; null requires every manifest to name its recording.
    /// </summary>
    public string? DataPath { get; set; }

    /// <summary>
    /// Wall-clock time per predicted unit of device time: 1 replays in real time, 0.01 a hundred times
    /// faster, 0 answers at once (energy is still the predicted energy of the real run).
    /// </summary>
    public double TimeScale { get; set; } = 1;

    /// <summary>
    /// Output tokens assumed where the recording kept no output length for a model (every edge
    /// model): a chain-of-thought answer, as <c>moemesh eval --output-tokens</c> assumes.
    /// </summary>
    public int OutputTokens { get; set; } = 256;

    /// <summary>Characters per token, for prompt lengths and recorded output lengths.</summary>
    public double CharsPerToken { get; set; } = 4;

    /// <summary>Tokens the chat template and instructions add to every prompt.</summary>
    public int PromptTemplateTokens { get; set; } = 32;

    /// <summary>The cost model's rules of thumb; the same figures as the evaluation's by default.</summary>
    public CostModelOptions CostModel { get; set; } = new();
}

/// <summary>Checks <see cref="ReplayEngineOptions"/> at start-up so a bad setting fails fast with its name.</summary>
public sealed class ReplayEngineOptionsValidator : IValidateOptions<ReplayEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplayEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Every problem with <paramref name="options"/>, each naming the option.</summary>
    public static IReadOnlyList<string> Problems(ReplayEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.DataPath is { } path && string.IsNullOrWhiteSpace(path))
        {
            problems.Add("ReplayEngineOptions.DataPath must be null or the path of the recorded outputs");
        }

        if (!double.IsFinite(options.TimeScale) || options.TimeScale < 0 || options.TimeScale > ReplayEngineOptions.MaxTimeScale)
        {
            problems.Add($"ReplayEngineOptions.TimeScale must be between 0 and {ReplayEngineOptions.MaxTimeScale}, got {options.TimeScale}");
        }

        if (options.OutputTokens is < 1 or > ReplayEngineOptions.MaxOutputTokens)
        {
            problems.Add($"ReplayEngineOptions.OutputTokens must be between 1 and {ReplayEngineOptions.MaxOutputTokens}, got {options.OutputTokens}");
        }

        if (!double.IsFinite(options.CharsPerToken) || options.CharsPerToken <= 0 || options.CharsPerToken > 100)
        {
            problems.Add($"ReplayEngineOptions.CharsPerToken must be above 0 and at most 100, got {options.CharsPerToken}");
        }

        if (options.PromptTemplateTokens is < 0 or > ReplayEngineOptions.MaxOutputTokens)
        {
            problems.Add($"ReplayEngineOptions.PromptTemplateTokens must be between 0 and {ReplayEngineOptions.MaxOutputTokens}, got {options.PromptTemplateTokens}");
        }

        if (options.CostModel is null)
        {
            problems.Add("ReplayEngineOptions.CostModel must be set");
        }
        else
        {
            problems.AddRange(options.CostModel.Validate().Select(p => $"ReplayEngineOptions.CostModel: {p}"));
        }

        return problems;
    }
}
