namespace MoeMesh.Generation;

/// <summary>
/// How the next token is chosen. A temperature of 0 means greedy decoding; the other filters
/// apply only when sampling. Defaults follow llama.cpp's.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.sampling-options")]
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding: always the most likely token.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Softmax temperature; 0 selects greedy decoding.</summary>
    [Id(0)] public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens; 0 disables.</summary>
    [Id(1)] public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of tokens whose probabilities sum to p; 1 disables.</summary>
    [Id(2)] public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than min-p times the most likely one; 0 disables.</summary>
    [Id(3)] public float MinP { get; init; } = 0.05f;

    /// <summary>Penalty for repeating recent tokens; 1 disables.</summary>
    [Id(4)] public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>How many recent tokens the repetition penalty looks at.</summary>
    [Id(5)] public int RepetitionLastN { get; init; } = 64;

    /// <summary>Random seed; the same seed, prompt and model give the same text.</summary>
    [Id(6)] public uint Seed { get; init; } = 42;

    /// <summary>True when the options select greedy decoding.</summary>
    public bool IsGreedy => Temperature <= 0;

    /// <summary>Problems with the values, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!float.IsFinite(Temperature) || Temperature < 0 || Temperature > 10)
        {
            problems.Add($"temperature must be between 0 and 10, got {Temperature}");
        }

        if (TopK < 0)
        {
            problems.Add($"top-k must be 0 (off) or more, got {TopK}");
        }

        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1)
        {
            problems.Add($"top-p must be in (0, 1], got {TopP}");
        }

        if (!float.IsFinite(MinP) || MinP < 0 || MinP >= 1)
        {
            problems.Add($"min-p must be in [0, 1), got {MinP}");
        }

        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0 || RepetitionPenalty > 10)
        {
            problems.Add($"repetition penalty must be in (0, 10], got {RepetitionPenalty}");
        }

        if (RepetitionLastN < 0)
        {
            problems.Add($"repetition window must be 0 or more tokens, got {RepetitionLastN}");
        }

        return problems;
    }
}
