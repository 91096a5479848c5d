using System.Text;

namespace MoeMesh.Routing.Data;

/// <summary>
/// Skill names for recorded questions, derived from their labels: the subject category and the
/// finer topic named by the question's source ("ori_mmlu-high_school_chemistry" → "chemistry",
/// "stemez-ElectricCircuits" → "electric circuits"). These are the training labels the lexical
/// skill extractor learns to predict from text.
/// </summary>
public static class RecordedSkillLabels
{
    // SciBench and TheoremQA sources are named after textbooks or short codes; these are their subjects.
    private static readonly Dictionary<string, string> SourceSubjects = new(StringComparer.OrdinalIgnoreCase)
    {
        ["scibench-atkins"] = "physical chemistry",
        ["scibench-chemmc"] = "chemistry",
        ["scibench-quan"] = "quantum chemistry",
        ["scibench-matter"] = "physics",
        ["scibench-fund"] = "physics",
        ["scibench-class"] = "classical mechanics",
        ["scibench-thermo"] = "thermodynamics",
        ["scibench-diff"] = "differential equations",
        ["scibench-stat"] = "statistics",
        ["scibench-calculus"] = "calculus",
        ["theoremQA-EECS"] = "electrical engineering",
        ["theoremQA-Finance"] = "finance",
        ["theoremQA-Math"] = "mathematics",
        ["theoremQA-Physics"] = "physics",
    };

    private static readonly string[] LevelPrefixes = ["high school ", "college ", "elementary ", "professional ", "conceptual "];

    /// <summary>The skill name of a category ("computer science" stays as is; "other" becomes "general knowledge").</summary>
    public static string FromCategory(string category)
    {
        ArgumentNullException.ThrowIfNull(category);
        var name = category.Trim().ToLowerInvariant();
        return name == "other" ? "general knowledge" : name;
    }

    /// <summary>The topic skill of a source name; the category skill when the source is empty.</summary>
    public static string FromSource(string source, string category)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(category);
        if (string.IsNullOrWhiteSpace(source))
        {
            return FromCategory(category);
        }

        if (SourceSubjects.TryGetValue(source, out var subject))
        {
            return subject;
        }

        var dash = source.IndexOf('-', StringComparison.Ordinal);
        var name = dash >= 0 ? source[(dash + 1)..] : source;
        name = SplitWords(name);
        foreach (var prefix in LevelPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
            {
                name = name[prefix.Length..];
                break;
            }
        }

        return name == "miscellaneous" ? FromCategory(category) : name;
    }

    /// <summary>The (category, topic) skills of a recorded question.</summary>
    public static (string Category, string Topic) Of(RecordedQuestion question)
    {
        ArgumentNullException.ThrowIfNull(question);
        return (FromCategory(question.Category), FromSource(question.Source, question.Category));
    }

    private static string SplitWords(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var ch = name[i];
            if (ch is '_' or '-' or ' ')
            {
                if (builder.Length > 0 && builder[^1] != ' ')
                {
                    builder.Append(' ');
                }

                continue;
            }

            if (char.IsUpper(ch) && i > 0 && char.IsLower(name[i - 1]) && builder.Length > 0 && builder[^1] != ' ')
            {
                builder.Append(' ');
            }

            builder.Append(char.ToLowerInvariant(ch));
        }

        return builder.ToString().Trim();
    }
}
