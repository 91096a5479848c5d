using System.Text;

namespace MoeMesh.Routing.Skills;

/// <summary>Normalises keywords so that "Organic Chemistry." and "organic  chemistry" are one keyword.</summary>
public static class KeywordText
{
    /// <summary>Lower-cased words separated by single spaces, without surrounding punctuation; empty when nothing is left.</summary>
    public static string Normalize(string keyword)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        var builder = new StringBuilder(keyword.Length);
        var pendingSpace = false;
        foreach (var ch in keyword)
        {
            if (char.IsLetterOrDigit(ch) || ch is '+' or '#')
            {
                if (pendingSpace && builder.Length > 0)
                {
                    builder.Append(' ');
                }

                builder.Append(char.ToLowerInvariant(ch));
                pendingSpace = false;
            }
            else if (ch is '-' && builder.Length > 0 && !pendingSpace)
            {
                builder.Append('-');
            }
            else
            {
                pendingSpace = true;
            }
        }

        return builder.ToString().Trim('-');
    }
}
