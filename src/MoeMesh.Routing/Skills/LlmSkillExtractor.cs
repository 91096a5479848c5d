namespace MoeMesh.Routing.Skills;

/// <summary>Settings for <see cref="LlmSkillExtractor"/>.</summary>
public sealed record LlmSkillOptions
{
    /// <summary>How many times the model is asked for keywords.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>A keyword is kept when it appears in at least this many answers ("seen more than once").</summary>
    public int MinOccurrences { get; init; } = 2;

    /// <summary>The most keywords kept, most frequent first.</summary>
    public int MaxKeywords { get; init; } = 5;

    /// <summary>Keywords longer than this many words are ignored (a sentence is not a keyword).</summary>
    public int MaxWordsPerKeyword { get; init; } = 4;

    /// <summary>Sampling temperature of each round; above 0 so that rounds can differ.</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Tokens the model may write per round.</summary>
    public int MaxTokens { get; init; } = 48;

    /// <summary>Seed of the first round (round r uses Seed + r), for reproducible extraction.</summary>
    public int Seed { get; init; } = 17;

    /// <summary>The prompt; <c>{question}</c> is replaced by the question text.</summary>
    public string PromptTemplate { get; init; } =
        "Name the 2 to 5 areas of knowledge needed to answer the question below, as short keywords " +
        "(for example: algebra, molecular biology, contract law). Reply with the keywords only, separated by commas.\n\n" +
        "Question: {question}\n\nKeywords:";

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Rounds < 1 || Rounds > 32)
        {
            problems.Add($"Rounds must be between 1 and 32, got {Rounds}");
        }

        if (MinOccurrences < 1 || MinOccurrences > Rounds)
        {
            problems.Add($"MinOccurrences must be between 1 and Rounds ({Rounds}), got {MinOccurrences}");
        }

        if (MaxKeywords < 1)
        {
            problems.Add($"MaxKeywords must be at least 1, got {MaxKeywords}");
        }

        if (MaxWordsPerKeyword < 1)
        {
            problems.Add($"MaxWordsPerKeyword must be at least 1, got {MaxWordsPerKeyword}");
        }

        if (!double.IsFinite(Temperature) || Temperature < 0)
        {
            problems.Add($"Temperature must be zero or more, got {Temperature}");
        }

        if (MaxTokens < 1)
        {
            problems.Add($"MaxTokens must be at least 1, got {MaxTokens}");
        }

        if (string.IsNullOrWhiteSpace(PromptTemplate) || !PromptTemplate.Contains("{question}", StringComparison.Ordinal))
        {
            problems.Add("PromptTemplate must contain {question}");
        }

        return problems;
    }
}

/// <summary>
/// Skill extraction as in Symbolic-MoE: a small model is asked several times for 2–5 keywords
/// naming the knowledge a question needs, and the keywords that come back more than once are kept.
/// Repetition filters out one-off guesses. The model is any <see cref="ITextGenerator"/>.
/// </summary>
public sealed class LlmSkillExtractor : ISkillExtractor
{
    private static readonly char[] Separators = [',', ';', '\n', '\r', '|', '/'];
    private readonly ITextGenerator _generator;

    /// <summary>Creates an extractor over <paramref name="generator"/>; throws when the options are invalid.</summary>
    public LlmSkillExtractor(ITextGenerator generator, LlmSkillOptions? options = null)
    {
        _generator = generator ?? throw new ArgumentNullException(nameof(generator));
        Options = options ?? new LlmSkillOptions();
        var problems = Options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid LLM skill options: {string.Join("; ", problems)}", nameof(options));
        }
    }

    /// <summary>The settings in use.</summary>
    public LlmSkillOptions Options { get; }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<string>> ExtractAsync(string question, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        var prompt = Options.PromptTemplate.Replace("{question}", question, StringComparison.Ordinal);
        var rounds = new Task<string>[Options.Rounds];
        for (var r = 0; r < rounds.Length; r++)
        {
            var settings = new TextGenerationSettings(Options.Temperature, Options.Seed + r, Options.MaxTokens);
            rounds[r] = _generator.GenerateAsync(prompt, settings, cancellationToken);
        }

        var answers = await Task.WhenAll(rounds).ConfigureAwait(false);
        return Consolidate(answers);
    }

    /// <summary>Parses each answer into keywords and keeps those repeated often enough, most frequent first.</summary>
    public IReadOnlyList<string> Consolidate(IReadOnlyList<string> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var counts = new Dictionary<string, (int Count, int First)>(StringComparer.Ordinal);
        var position = 0;
        foreach (var answer in answers)
        {
            foreach (var keyword in ParseKeywords(answer ?? "", Options.MaxWordsPerKeyword).Take(Options.MaxKeywords))
            {
                counts[keyword] = counts.TryGetValue(keyword, out var seen) ? (seen.Count + 1, seen.First) : (1, position);
                position++;
            }
        }

        return counts
            .Where(p => p.Value.Count >= Options.MinOccurrences)
            .OrderByDescending(p => p.Value.Count)
            .ThenBy(p => p.Value.First)
            .Take(Options.MaxKeywords)
            .Select(p => p.Key)
            .ToArray();
    }

    /// <summary>The distinct keywords of one answer, in order: list markers, numbering and quotes removed.</summary>
    public static IReadOnlyList<string> ParseKeywords(string answer, int maxWordsPerKeyword = 4)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var keywords = new List<string>();
        foreach (var piece in answer.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = piece;
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0 && colon < text.Length - 1 && text[..colon].Contains("keyword", StringComparison.OrdinalIgnoreCase))
            {
                text = text[(colon + 1)..];
            }

            // Drop list numbering such as "1." or "2)".
            var start = 0;
            while (start < text.Length && (char.IsDigit(text[start]) || text[start] is '.' or ')' or '-' or '*' or '•' or ' '))
            {
                start++;
            }

            var keyword = KeywordText.Normalize(text[start..]);
            if (keyword.Length == 0 || keyword.Split(' ').Length > maxWordsPerKeyword || keywords.Contains(keyword, StringComparer.Ordinal))
            {
                continue;
            }

            keywords.Add(keyword);
        }

        return keywords;
    }
}
