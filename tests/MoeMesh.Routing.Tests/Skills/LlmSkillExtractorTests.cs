using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Tests.Skills;

public sealed class LlmSkillExtractorTests
{
    [Fact]
    public async Task Keeps_keywords_repeated_across_rounds_most_frequent_first()
    {
        var generator = new ScriptedGenerator(
            "organic chemistry, reaction kinetics, thermodynamics",
            "Keywords: Organic Chemistry; thermodynamics",
            "1. thermodynamics\n2. organic chemistry\n3. spectroscopy",
            "reaction kinetics, quantum mechanics",
            "- stoichiometry");
        var extractor = new LlmSkillExtractor(generator);

        var skills = await extractor.ExtractAsync("What is the rate constant of …?");

        Assert.Equal(["organic chemistry", "thermodynamics", "reaction kinetics"], skills);
        Assert.Equal(5, generator.Prompts.Count);
        Assert.All(generator.Prompts, p => Assert.Contains("What is the rate constant of …?", p, StringComparison.Ordinal));

        // Each round samples with its own seed so the answers can differ, reproducibly.
        Assert.Equal(5, generator.Settings.Select(s => s.Seed).Distinct().Count());
        Assert.All(generator.Settings, s => Assert.True(s.Temperature > 0));
    }

    [Fact]
    public async Task Returns_nothing_when_no_keyword_repeats()
    {
        var extractor = new LlmSkillExtractor(new ScriptedGenerator("algebra", "geometry", "calculus"), new LlmSkillOptions { Rounds = 3 });
        Assert.Empty(await extractor.ExtractAsync("Solve x."));
    }

    [Fact]
    public void Parses_lists_in_the_shapes_models_write_them()
    {
        Assert.Equal(["algebra", "molecular biology", "contract law"], LlmSkillExtractor.ParseKeywords("1) Algebra\n2) Molecular Biology.\n* contract law"));
        Assert.Equal(["tax law"], LlmSkillExtractor.ParseKeywords("\"Tax law\", tax LAW, this keyword is far too long to be a keyword really"));
    }

    [Fact]
    public async Task Cancellation_reaches_the_generator()
    {
        var extractor = new LlmSkillExtractor(new ScriptedGenerator("a, b"));
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await extractor.ExtractAsync("q", cancel.Token));
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new LlmSkillExtractor(new ScriptedGenerator(), new LlmSkillOptions { Rounds = 2, MinOccurrences = 3, PromptTemplate = "no placeholder" }));
        Assert.Contains("MinOccurrences", error.Message, StringComparison.Ordinal);
        Assert.Contains("{question}", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Answers each call with the next scripted reply (cycling), recording prompts and settings.</summary>
    private sealed class ScriptedGenerator(params string[] replies) : ITextGenerator
    {
        private int _next;

        public List<string> Prompts { get; } = [];

        public List<TextGenerationSettings> Settings { get; } = [];

        public Task<string> GenerateAsync(string prompt, TextGenerationSettings settings, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (Prompts)
            {
                Prompts.Add(prompt);
                Settings.Add(settings);
                return Task.FromResult(replies.Length == 0 ? "" : replies[_next++ % replies.Length]);
            }
        }
    }
}

public sealed class KeywordMatcherTests
{
    private static readonly TrigramKeywordMatcher Matcher = new(["organic chemistry", "physical chemistry", "contract law", "economics", "mathematics"]);

    [Theory]
    [InlineData("Organic Chemistry", "organic chemistry")]
    [InlineData("organic chem", "organic chemistry")]
    [InlineData("economic", "economics")]
    [InlineData("contracts law", "contract law")]
    [InlineData("math", "mathematics")]
    public void Matches_the_nearest_vocabulary_keyword(string keyword, string expected)
        => Assert.Equal(expected, Matcher.Match(keyword).Keyword);

    [Fact]
    public void Unrelated_keywords_match_nothing()
    {
        var match = Matcher.Match("volcanology");
        Assert.Null(match.Keyword);
        Assert.True(match.Similarity < Matcher.MinSimilarity);
        Assert.Equal(1, Matcher.Match("economics").Similarity);
    }
}

public sealed class LexicalSkillExtractorTests
{
    [Fact]
    public void Learns_subjects_and_topics_from_labelled_texts()
    {
        var examples = new List<SkillExample>();
        for (var i = 0; i < 30; i++)
        {
            examples.Add(new SkillExample($"The integral of x squared {i} and the derivative of a polynomial", "math", "calculus"));
            examples.Add(new SkillExample($"The court held the contract void {i} under the statute of frauds", "law", "contract law"));
            examples.Add(new SkillExample($"The enzyme catalyses the reaction in the cell membrane {i}", "biology", "biochemistry"));
        }

        var extractor = LexicalSkillExtractor.Fit(examples);
        var skills = extractor.Extract("Find the derivative and the integral of this polynomial");
        Assert.Equal("math", skills[0]);
        Assert.Contains("calculus", skills);
        Assert.InRange(skills.Count, 2, 5);
        Assert.Equal(skills, extractor.Extract("Find the derivative and the integral of this polynomial"));

        var posterior = extractor.Posterior("a contract under the statute");
        Assert.Equal(1, posterior.Categories.Sum(), 9);
        Assert.Equal("law", extractor.CategoryLabels[Array.IndexOf(posterior.Categories, posterior.Categories.Max())]);
    }

    [Fact]
    public void Needs_examples()
        => Assert.Throws<ArgumentException>(() => LexicalSkillExtractor.Fit(Array.Empty<SkillExample>()));
}
