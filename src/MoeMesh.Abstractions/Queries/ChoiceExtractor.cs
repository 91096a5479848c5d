using System.Text.RegularExpressions;

namespace MoeMesh.Queries;

/// <summary>Finds the option letter an answer text chose: how the router reads its experts, and how the replay engine reads a panel.</summary>
public static partial class ChoiceExtractor
{
    /// <summary>
    /// The letter of the chosen option among <paramref name="choiceCount"/> options, or null. Looks
    /// for "answer is (X)" first, then a leading "X." / "(X)", then the first standalone letter.
    /// </summary>
    public static string? Extract(string text, int choiceCount)
    {
        if (string.IsNullOrWhiteSpace(text) || choiceCount <= 0)
        {
            return null;
        }

        var last = (char)('A' + Math.Min(choiceCount, 26) - 1);
        foreach (var pattern in new[] { AnswerIs(), Leading(), Standalone() })
        {
            foreach (Match match in pattern.Matches(text))
            {
                var letter = char.ToUpperInvariant(match.Groups["letter"].Value[0]);
                if (letter >= 'A' && letter <= last)
                {
                    return letter.ToString();
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"answer\s*(?:is|:)?\s*\(?(?<letter>[A-Za-z])\)?(?![A-Za-z])", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerIs();

    [GeneratedRegex(@"^\s*\(?(?<letter>[A-Z])[\).:](?:\s|$)")]
    private static partial Regex Leading();

    [GeneratedRegex(@"(?<![A-Za-z])(?<letter>[A-Z])(?![A-Za-z])")]
    private static partial Regex Standalone();
}
