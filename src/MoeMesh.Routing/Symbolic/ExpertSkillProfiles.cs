using MoeMesh.Routing.Data;
using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Symbolic;

/// <summary>One labelled question for profile building: its keywords and whether each expert got it right.</summary>
/// <param name="Keywords">The question's skill keywords.</param>
/// <param name="Correct">Per expert (in profile order): true right, false wrong, null did not answer.</param>
public sealed record ProfileExample(IReadOnlyList<string> Keywords, IReadOnlyList<bool?> Correct);

/// <summary>
/// Symbolic-MoE model profiles: for every expert and keyword, +1 for each question with that keyword
/// it got right and −1 for each it got wrong; an expert's global competence is the sum over all its
/// keywords. Immutable once built; safe for concurrent use.
/// </summary>
public sealed class ExpertSkillProfiles
{
    private readonly Dictionary<string, int> _keywordIndex;
    private readonly int[] _right;  // [keyword * experts + expert]
    private readonly int[] _wrong;
    private readonly int[] _globalRight;
    private readonly int[] _globalWrong;

    private ExpertSkillProfiles(IReadOnlyList<string> experts, IReadOnlyList<string> keywords, int[] right, int[] wrong)
    {
        Experts = experts;
        Keywords = keywords;
        _keywordIndex = keywords.Select((k, i) => (k, i)).ToDictionary(p => p.k, p => p.i, StringComparer.Ordinal);
        _right = right;
        _wrong = wrong;
        _globalRight = new int[experts.Count];
        _globalWrong = new int[experts.Count];
        for (var k = 0; k < keywords.Count; k++)
        {
            for (var e = 0; e < experts.Count; e++)
            {
                _globalRight[e] += right[(k * experts.Count) + e];
                _globalWrong[e] += wrong[(k * experts.Count) + e];
            }
        }
    }

    /// <summary>The profiled experts.</summary>
    public IReadOnlyList<string> Experts { get; }

    /// <summary>Every keyword seen in the examples (normalised), sorted.</summary>
    public IReadOnlyList<string> Keywords { get; }

    /// <summary>Builds profiles from labelled examples.</summary>
    public static ExpertSkillProfiles Build(IReadOnlyList<string> experts, IEnumerable<ProfileExample> examples)
    {
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(examples);
        if (experts.Count == 0)
        {
            throw new ArgumentException("profiles need at least one expert", nameof(experts));
        }

        var counts = new Dictionary<string, (int[] Right, int[] Wrong)>(StringComparer.Ordinal);
        var seen = 0;
        foreach (var example in examples)
        {
            seen++;
            if (example.Correct.Count != experts.Count)
            {
                throw new ArgumentException($"example {seen} has outcomes for {example.Correct.Count} experts, expected {experts.Count}", nameof(examples));
            }

            foreach (var keyword in example.Keywords.Select(KeywordText.Normalize).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (!counts.TryGetValue(keyword, out var row))
                {
                    row = (new int[experts.Count], new int[experts.Count]);
                    counts.Add(keyword, row);
                }

                for (var e = 0; e < experts.Count; e++)
                {
                    switch (example.Correct[e])
                    {
                        case true:
                            row.Right[e]++;
                            break;
                        case false:
                            row.Wrong[e]++;
                            break;
                    }
                }
            }
        }

        if (counts.Count == 0)
        {
            throw new ArgumentException("no example had a keyword; profiles cannot be built", nameof(examples));
        }

        var keywords = counts.Keys.Order(StringComparer.Ordinal).ToArray();
        var right = new int[keywords.Length * experts.Count];
        var wrong = new int[keywords.Length * experts.Count];
        for (var k = 0; k < keywords.Length; k++)
        {
            var row = counts[keywords[k]];
            row.Right.CopyTo(right, k * experts.Count);
            row.Wrong.CopyTo(wrong, k * experts.Count);
        }

        return new ExpertSkillProfiles(experts.ToArray(), keywords, right, wrong);
    }

    /// <summary>Builds profiles from the training split, with each question's keywords given by <paramref name="keywordsOf"/>.</summary>
    public static ExpertSkillProfiles Build(TrainingSet train, IReadOnlyList<string> experts, Func<RecordedQuestion, IReadOnlyList<string>> keywordsOf)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(keywordsOf);
        var slots = experts.Select(train.ModelIndex).ToArray();
        return Build(experts, train.Questions.Select(q => new ProfileExample(keywordsOf(q), slots.Select(s => q.IsCorrect(s)).ToArray())));
    }

    /// <summary>The index of <paramref name="keyword"/> (normalised), or -1 when no profile has it.</summary>
    public int KeywordIndex(string keyword) => _keywordIndex.TryGetValue(KeywordText.Normalize(keyword), out var k) ? k : -1;

    /// <summary>The expert's score on a keyword: right answers minus wrong answers.</summary>
    public int Score(int expert, int keyword) => _right[Slot(expert, keyword)] - _wrong[Slot(expert, keyword)];

    /// <summary>How often the expert answered questions with this keyword (right and wrong).</summary>
    public (int Right, int Wrong) Counts(int expert, int keyword) => (_right[Slot(expert, keyword)], _wrong[Slot(expert, keyword)]);

    /// <summary>The paper's global competence: the expert's scores summed over all keywords.</summary>
    public int GlobalCompetence(int expert) => _globalRight[expert] - _globalWrong[expert];

    /// <summary>The share of the expert's keyword outcomes that were right (global competence as a rate, 0 to 1).</summary>
    public double GlobalRate(int expert)
    {
        var total = _globalRight[expert] + _globalWrong[expert];
        return total == 0 ? 0.5 : _globalRight[expert] / (double)total;
    }

    /// <summary>
    /// The expert's rate of right answers on a keyword, shrunk toward its global rate by
    /// <paramref name="smoothing"/> pseudo-answers so that rare keywords do not swing it.
    /// </summary>
    public double KeywordRate(int expert, int keyword, double smoothing)
    {
        var (r, w) = Counts(expert, keyword);
        return (r + (smoothing * GlobalRate(expert))) / (r + w + smoothing);
    }

    private int Slot(int expert, int keyword)
    {
        if ((uint)expert >= (uint)Experts.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(expert), expert, $"there are {Experts.Count} experts");
        }

        if ((uint)keyword >= (uint)Keywords.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(keyword), keyword, $"there are {Keywords.Count} keywords");
        }

        return (keyword * Experts.Count) + expert;
    }

    internal void Write(BinaryWriter writer)
    {
        FitIo.WriteStrings(writer, Experts);
        FitIo.WriteStrings(writer, Keywords);
        FitIo.WriteArray(writer, _right);
        FitIo.WriteArray(writer, _wrong);
    }

    internal static ExpertSkillProfiles Read(BinaryReader reader)
    {
        var experts = FitIo.ReadStrings(reader);
        var keywords = FitIo.ReadStrings(reader);
        var right = FitIo.ReadArray<int>(reader);
        var wrong = FitIo.ReadArray<int>(reader);
        if (experts.Length == 0 || right.Length != experts.Length * keywords.Length || wrong.Length != right.Length || keywords.Distinct(StringComparer.Ordinal).Count() != keywords.Length)
        {
            throw new InvalidDataException("the skill profiles' counts do not match their experts and keywords");
        }

        return new ExpertSkillProfiles(experts, keywords, right, wrong);
    }
}
