using Microsoft.Extensions.Options;
using MoeMesh.Routing.Skills;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// Finds the skills a query needs, with the best model of skills the silo has: an expert asked for
/// keywords (<see cref="RouterOptions.SkillExpert"/>), the pool's trained extractor, the lexical
/// extractor fitted on the training split, or, with none of those, the question's own words.
/// </summary>
internal sealed class QuerySkills(RecordedKnowledge knowledge, IOptions<RouterOptions> options, IGrainFactory? grains)
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our", "out", "has", "him",
        "his", "how", "its", "may", "new", "now", "see", "who", "did", "get", "let", "put", "say", "she", "too", "use", "what", "when",
        "where", "which", "while", "with", "this", "that", "these", "those", "from", "into", "about", "there", "their", "them", "they",
        "then", "than", "will", "would", "could", "should", "does", "have", "been", "being", "were", "your", "some", "such", "each",
        "explain", "tell", "show", "give", "please", "describe", "why", "is",
    };

    private static readonly char[] WordSeparators = [' ', '\t', '\n', '\r', ',', '.', ';', ':', '?', '!', '(', ')', '"', '\'', '/', '-', '[', ']'];

    private LlmSkillExtractor? _llmSkills;

    /// <summary>The skills of <paramref name="text"/>; <paramref name="trained"/> is the pool's extractor, when there is a pool.</summary>
    public async ValueTask<IReadOnlyList<string>> OfAsync(string text, ISkillExtractor? trained, CancellationToken cancellationToken)
    {
        if (AsksAnExpert)
        {
            _llmSkills ??= new LlmSkillExtractor(new ExpertTextGenerator(grains!, options.Value.SkillExpert!));
            return await _llmSkills.ExtractAsync(text, cancellationToken);
        }

        if (trained is not null)
        {
            return await trained.ExtractAsync(text, cancellationToken);
        }

        if (await knowledge.SkillsAsync(cancellationToken) is { } lexical)
        {
            return lexical.Extract(text);
        }

        return Words(text);
    }

    /// <summary>
    /// The skills of <paramref name="text"/> and, when the pool's lexical model found them, the
    /// probabilities they came from, so a gate reading the same model does not work them out again.
    /// </summary>
    public async ValueTask<(IReadOnlyList<string> Skills, SkillPosterior? Posterior)> WithPosteriorAsync(string text, ISkillExtractor? trained, CancellationToken cancellationToken)
    {
        if (trained is LexicalSkillExtractor lexical && !AsksAnExpert)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var posterior = lexical.Posterior(text);
            return (lexical.Extract(posterior), posterior);
        }

        return (await OfAsync(text, trained, cancellationToken), null);
    }

    private bool AsksAnExpert => options.Value.SkillExpert is { Length: > 0 } && grains is not null;

    /// <summary>No model of skills: the question's own words, which manifest tags are matched against.</summary>
    internal static IReadOnlyList<string> Words(string text)
        => text.Split(WordSeparators, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.ToLowerInvariant())
            .Where(w => w.Length >= 3 && !StopWords.Contains(w))
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
