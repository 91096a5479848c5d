using MoeMesh.Routing.Data;

namespace MoeMesh.Routing.Skills;

/// <summary>A labelled text for <see cref="LexicalSkillExtractor"/>: a broad subject and a finer topic.</summary>
public sealed record SkillExample(string Text, string Category, string Topic);

/// <summary>Settings for <see cref="LexicalSkillExtractor"/>.</summary>
public sealed record LexicalSkillOptions
{
    /// <summary>Add-α smoothing of the word model.</summary>
    public double Smoothing { get; init; } = 0.5;

    /// <summary>Words seen in fewer training texts are ignored.</summary>
    public int MinWordCount { get; init; } = 2;

    /// <summary>Divides the word evidence (above 1 tempers naive Bayes' overconfidence).</summary>
    public double Temperature { get; init; } = 4;

    /// <summary>The fewest skills returned (2 in the Symbolic-MoE setting).</summary>
    public int MinSkills { get; init; } = 2;

    /// <summary>The most skills returned (5 in the Symbolic-MoE setting).</summary>
    public int MaxSkills { get; init; } = 5;

    /// <summary>Topics are added, most likely first, until they cover this much probability.</summary>
    public double TopicCoverage { get; init; } = 0.8;

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!double.IsFinite(Smoothing) || Smoothing <= 0)
        {
            problems.Add($"Smoothing must be positive, got {Smoothing}");
        }

        if (MinWordCount < 1)
        {
            problems.Add($"MinWordCount must be at least 1, got {MinWordCount}");
        }

        if (!double.IsFinite(Temperature) || Temperature <= 0)
        {
            problems.Add($"Temperature must be positive, got {Temperature}");
        }

        if (MinSkills < 1 || MaxSkills < MinSkills)
        {
            problems.Add($"need 1 ≤ MinSkills ≤ MaxSkills, got {MinSkills} and {MaxSkills}");
        }

        if (!double.IsFinite(TopicCoverage) || TopicCoverage <= 0 || TopicCoverage > 1)
        {
            problems.Add($"TopicCoverage must be in (0, 1], got {TopicCoverage}");
        }

        return problems;
    }
}

/// <summary>Probabilities of each subject and topic for one text.</summary>
public sealed record SkillPosterior(double[] Categories, double[] Topics)
{
    /// <summary>The model that worked them out; null for probabilities made elsewhere (cross-fitting).</summary>
    public LexicalSkillExtractor? Model { get; init; }
}

/// <summary>
/// The default skill extractor: needs no model. Two naive-Bayes word models learned from labelled
/// texts (the training split) predict a question's subject and topics; the skills are the most
/// likely subject plus the topics covering most of the probability, 2–5 keywords in all.
/// Immutable once fitted; safe for concurrent use.
/// </summary>
public sealed class LexicalSkillExtractor : ISkillExtractor
{
    private readonly TopicClassifier _categories;
    private readonly TopicClassifier _topics;

    private LexicalSkillExtractor(TopicClassifier categories, TopicClassifier topics, LexicalSkillOptions options)
    {
        _categories = categories;
        _topics = topics;
        Options = options;
    }

    /// <summary>The settings in use.</summary>
    public LexicalSkillOptions Options { get; }

    /// <summary>Subject skill names, in the order of <see cref="SkillPosterior.Categories"/>.</summary>
    public IReadOnlyList<string> CategoryLabels => _categories.Labels;

    /// <summary>Topic skill names, in the order of <see cref="SkillPosterior.Topics"/>.</summary>
    public IReadOnlyList<string> TopicLabels => _topics.Labels;

    /// <summary>Every skill name the extractor can return.</summary>
    public IReadOnlyList<string> Vocabulary => CategoryLabels.Concat(TopicLabels).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Learns from the training split, labelling each question with its subject and source topic.</summary>
    public static LexicalSkillExtractor Fit(TrainingSet train, LexicalSkillOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        var examples = train.Questions.Select(q =>
        {
            var (category, topic) = RecordedSkillLabels.Of(q);
            return new SkillExample(q.PromptText, category, topic);
        }).ToArray();
        return Fit(examples, options);
    }

    /// <summary>Learns from labelled texts.</summary>
    public static LexicalSkillExtractor Fit(IReadOnlyList<SkillExample> examples, LexicalSkillOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        options ??= new LexicalSkillOptions();
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid lexical skill options: {string.Join("; ", problems)}", nameof(options));
        }

        if (examples.Count == 0)
        {
            throw new ArgumentException("the lexical skill extractor needs labelled examples to learn from", nameof(examples));
        }

        var normalized = examples.Select(e => (e.Text, Category: KeywordText.Normalize(e.Category), Topic: KeywordText.Normalize(e.Topic))).ToArray();
        if (normalized.Any(e => e.Category.Length == 0 || e.Topic.Length == 0))
        {
            throw new ArgumentException("every example needs a non-empty category and topic", nameof(examples));
        }

        var categories = TopicClassifier.Fit(normalized.Select(e => (e.Text, e.Category)).ToArray(), options.Smoothing, options.MinWordCount);
        var topics = TopicClassifier.Fit(normalized.Select(e => (e.Text, e.Topic)).ToArray(), options.Smoothing, options.MinWordCount);
        return new LexicalSkillExtractor(categories, topics, options);
    }

    /// <summary>Subject and topic probabilities of <paramref name="text"/>.</summary>
    public SkillPosterior Posterior(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = TopicClassifier.DistinctTokens(text);
        return new(_categories.Posterior(words, Options.Temperature), _topics.Posterior(words, Options.Temperature)) { Model = this };
    }

    /// <summary>The skills of <paramref name="text"/>: the likeliest subject, then topics by probability.</summary>
    public IReadOnlyList<string> Extract(string text) => Extract(Posterior(text));

    /// <summary>The skills implied by a posterior already computed.</summary>
    public IReadOnlyList<string> Extract(SkillPosterior posterior)
    {
        ArgumentNullException.ThrowIfNull(posterior);
        var skills = new List<string>(Options.MaxSkills);
        var bestCategory = ArgMax(posterior.Categories);
        skills.Add(CategoryLabels[bestCategory]);
        var order = Enumerable.Range(0, posterior.Topics.Length).OrderByDescending(t => posterior.Topics[t]).ThenBy(t => t).ToArray();
        var covered = 0.0;
        foreach (var t in order)
        {
            if (skills.Count >= Options.MaxSkills || (covered >= Options.TopicCoverage && skills.Count >= Options.MinSkills))
            {
                break;
            }

            covered += posterior.Topics[t];
            if (!skills.Contains(TopicLabels[t], StringComparer.Ordinal))
            {
                skills.Add(TopicLabels[t]);
            }
        }

        return skills;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ExtractAsync(string question, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Extract(question));
    }

    private static int ArgMax(double[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    internal void Write(BinaryWriter writer)
    {
        var o = Options;
        writer.Write(o.Smoothing);
        writer.Write(o.MinWordCount);
        writer.Write(o.Temperature);
        writer.Write(o.MinSkills);
        writer.Write(o.MaxSkills);
        writer.Write(o.TopicCoverage);
        _categories.Write(writer);
        _topics.Write(writer);
    }

    internal static LexicalSkillExtractor Read(BinaryReader reader)
    {
        var options = new LexicalSkillOptions
        {
            Smoothing = reader.ReadDouble(),
            MinWordCount = reader.ReadInt32(),
            Temperature = reader.ReadDouble(),
            MinSkills = reader.ReadInt32(),
            MaxSkills = reader.ReadInt32(),
            TopicCoverage = reader.ReadDouble(),
        };
        var problems = options.Validate();
        return problems.Count > 0
            ? throw new InvalidDataException($"the skill model's settings are invalid: {string.Join("; ", problems)}")
            : new LexicalSkillExtractor(TopicClassifier.Read(reader), TopicClassifier.Read(reader), options);
    }
}
