namespace MoeMesh.Generation;

/// <summary>What to do when the prompt does not fit the context window.</summary>
public enum PromptOverflowPolicy
{
    /// <summary>Refuse the request with a clear error.</summary>
    Reject = 0,

    /// <summary>Drop the oldest prompt tokens (after the first message) until prompt plus output fit.</summary>
    TruncateStart = 1,
}

/// <summary>One generation asked of one expert.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.generation-request")]
public sealed record GenerationRequest
{
    /// <summary>The conversation; the engine applies the model's chat template.</summary>
    [Id(0)] public IReadOnlyList<ChatTurn> Messages { get; init; } = [];

    /// <summary>A raw prompt used verbatim instead of <see cref="Messages"/> (no chat template).</summary>
    [Id(1)] public string? RawPrompt { get; init; }

    /// <summary>The most tokens to generate.</summary>
    [Id(2)] public int MaxTokens { get; init; } = 256;

    /// <summary>Generation stops before any of these strings; they are not part of the text.</summary>
    [Id(3)] public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>How to choose tokens.</summary>
    [Id(4)] public SamplingOptions Sampling { get; init; } = new();

    /// <summary>What to do with a prompt longer than the context.</summary>
    [Id(5)] public PromptOverflowPolicy Overflow { get; init; } = PromptOverflowPolicy.Reject;

    /// <summary>
    /// The caller's id for this run, so it can be cancelled by an explicit call to the expert
    /// (<see cref="Experts.IExpertGrain.CancelAsync"/>) even before the run has reached it.
    /// </summary>
    [Id(6)] public string? RunId { get; init; }

    /// <summary>
    /// The panel's answers when this request asks an aggregator to weigh them (the prompt shows them to
    /// the model too); null for a responder.
    /// </summary>
    [Id(7)] public IReadOnlyList<PanelAnswer>? Panel { get; init; }

    /// <summary>
    /// Time the generation may take, in milliseconds, counted from when the expert receives it (so no
    /// clock is shared between boxes); null: no limit. The expert caps the output to fit and ends the
    /// stream at the deadline with <see cref="FinishReason.Budget"/>.
    /// </summary>
    [Id(8)] public double? TimeBudgetMs { get; init; }

    /// <summary>A request made of one user message.</summary>
    public static GenerationRequest FromPrompt(string prompt) => new() { Messages = [ChatTurn.User(prompt)] };

    /// <summary>Problems with the request, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Sampling.Validate());
        if (RawPrompt is null && Messages.Count == 0)
        {
            problems.Add("the request has neither messages nor a raw prompt");
        }

        if (MaxTokens < 1 || MaxTokens > 1 << 20)
        {
            problems.Add($"max tokens must be between 1 and {1 << 20}, got {MaxTokens}");
        }

        if (TimeBudgetMs is { } budget && (!double.IsFinite(budget) || budget <= 0))
        {
            problems.Add($"time budget must be a positive number of milliseconds, got {budget}");
        }

        if (Stop.Any(string.IsNullOrEmpty))
        {
            problems.Add("stop strings must not be empty");
        }

        if (Stop.Count > 16)
        {
            problems.Add($"at most 16 stop strings are allowed, got {Stop.Count}");
        }

        return problems;
    }
}
