namespace MoeMesh.Generation;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced an end-of-generation token.</summary>
    EndOfText = 0,

    /// <summary>The token limit was reached.</summary>
    MaxTokens = 1,

    /// <summary>A stop string appeared.</summary>
    Stop = 2,

    /// <summary>The caller cancelled.</summary>
    Cancelled = 3,

    /// <summary>The context window filled up.</summary>
    ContextFull = 4,

    /// <summary>The request's time budget ran out (see <see cref="GenerationRequest.TimeBudgetMs"/>).</summary>
    Budget = 5,
}

/// <summary>Measurements of one generation.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.generation-metrics")]
public sealed record GenerationMetrics
{
    /// <summary>Tokens in the prompt after templating.</summary>
    [Id(0)] public int PromptTokens { get; init; }

    /// <summary>Prompt tokens whose KV state was reused from an earlier request instead of computed.</summary>
    [Id(1)] public int ReusedPromptTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    [Id(2)] public int GeneratedTokens { get; init; }

    /// <summary>From the request's start to the first generated token, in milliseconds.</summary>
    [Id(3)] public double TimeToFirstTokenMs { get; init; }

    /// <summary>Whole generation time, in milliseconds.</summary>
    [Id(4)] public double TotalMs { get; init; }

    /// <summary>Prompt tokens computed per second during prefill.</summary>
    [Id(5)] public double PrefillTokensPerSecond { get; init; }

    /// <summary>Tokens generated per second after the first.</summary>
    [Id(6)] public double DecodeTokensPerSecond { get; init; }

    /// <summary>Why generation ended.</summary>
    [Id(7)] public FinishReason FinishReason { get; init; }

    /// <summary>Time spent waiting for the engine (queued behind other requests), in milliseconds.</summary>
    [Id(8)] public double QueueMs { get; init; }

    /// <summary>Sequences decoded together with this one in the same batch (1 = alone).</summary>
    [Id(9)] public int BatchSize { get; init; } = 1;

    /// <summary>
    /// Energy the engine itself accounts for this generation, in joules, when it knows better than
    /// the silo's meter (the replay engine reports the energy of the run it replays); null otherwise.
    /// </summary>
    [Id(10)] public double? EnergyJoules { get; init; }

    /// <summary>Names what <see cref="EnergyJoules"/> comes from (for example "replay"), when set.</summary>
    [Id(11)] public string? EnergySource { get; init; }

    /// <summary>
    /// True when the times and energy are a simulation's rather than measurements (the replay
    /// engine); the router then does not refine its cost model from them.
    /// </summary>
    [Id(12)] public bool Simulated { get; init; }
}

/// <summary>A piece of streamed output: text, and on the last piece the metrics.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.generation-chunk")]
public sealed record GenerationChunk
{
    /// <summary>New text; never splits a UTF-8 character. Empty on the final chunk when nothing is left.</summary>
    [Id(0)] public string Text { get; init; } = "";

    /// <summary>Set on the final chunk only.</summary>
    [Id(1)] public GenerationMetrics? Metrics { get; init; }

    /// <summary>True on the final chunk.</summary>
    public bool IsFinal => Metrics is not null;
}
