using System.Runtime.InteropServices;

namespace MoeMesh.Routing.Text;

/// <summary>Settings for <see cref="TextFeaturizer"/>.</summary>
public sealed record TextFeaturizerOptions
{
    /// <summary>Features are hashed into 2^HashBits buckets.</summary>
    public int HashBits { get; init; } = 18;

    /// <summary>Adds pairs of neighbouring tokens ("organic chemistry") to single tokens.</summary>
    public bool Bigrams { get; init; } = true;

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
        => HashBits is < 8 or > 24 ? [$"HashBits must be between 8 and 24, got {HashBits}"] : [];
}

/// <summary>
/// Turns text into hashed bag-of-words features: lower-cased words, numbers folded to a shape token,
/// symbols that mark formulas kept as tokens, plus bigrams; binary values scaled to unit length.
/// Hashing is FNV-1a over the characters, so features are the same in every process. Immutable and
/// safe for concurrent use.
/// </summary>
public sealed class TextFeaturizer
{
    private const uint FnvOffset = 2166136261;
    private const uint FnvPrime = 16777619;
    private const uint BigramSalt = 0x9E3779B9;

    /// <summary>Creates a featurizer; throws when the options are out of range.</summary>
    public TextFeaturizer(TextFeaturizerOptions? options = null)
    {
        Options = options ?? new TextFeaturizerOptions();
        var problems = Options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid text features: {string.Join("; ", problems)}", nameof(options));
        }

        Dimension = 1 << Options.HashBits;
    }

    /// <summary>The settings in use.</summary>
    public TextFeaturizerOptions Options { get; }

    /// <summary>Number of hash buckets (feature indices are below this).</summary>
    public int Dimension { get; }

    /// <summary>The hashed features of <paramref name="text"/>, scaled to unit length.</summary>
    public SparseVector Featurize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = Tokenize(text);
        var mask = Dimension - 1;
        var hashes = new List<int>(tokens.Count * 2);
        for (var t = 0; t < tokens.Count; t++)
        {
            hashes.Add((int)(tokens[t] & (uint)mask));
            if (Options.Bigrams && t > 0)
            {
                var pair = unchecked(((tokens[t - 1] * FnvPrime) ^ tokens[t] ^ BigramSalt) * FnvPrime);
                hashes.Add((int)(pair & (uint)mask));
            }
        }

        var span = CollectionsMarshal.AsSpan(hashes);
        span.Sort();
        var unique = 0;
        for (var i = 0; i < span.Length; i++)
        {
            if (unique == 0 || span[i] != span[unique - 1])
            {
                span[unique++] = span[i];
            }
        }

        var indices = span[..unique].ToArray();
        var values = new float[unique];
        if (unique > 0)
        {
            Array.Fill(values, (float)(1 / Math.Sqrt(unique)));
        }

        return new SparseVector(indices, values);
    }

    /// <summary>The hashes of the tokens of <paramref name="text"/>, in order (for models that count words).</summary>
    public static List<uint> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<uint>(text.Length / 5);
        var i = 0;
        while (i < text.Length)
        {
            var ch = text[i];
            if (char.IsLetter(ch))
            {
                var hash = FnvOffset;
                while (i < text.Length && (char.IsLetter(text[i]) || text[i] == '\''))
                {
                    hash = unchecked((hash ^ char.ToLowerInvariant(text[i])) * FnvPrime);
                    i++;
                }

                tokens.Add(hash);
            }
            else if (char.IsDigit(ch))
            {
                // Numbers matter by shape ("a number with 3 digits"), not by value.
                var digits = 0;
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.' || text[i] == ','))
                {
                    digits += char.IsDigit(text[i]) ? 1 : 0;
                    i++;
                }

                tokens.Add(unchecked((((FnvOffset ^ '#') * FnvPrime) ^ (uint)Math.Min(digits, 6)) * FnvPrime));
            }
            else
            {
                if (IsFormulaSymbol(ch))
                {
                    tokens.Add(unchecked(((FnvOffset ^ '§') * FnvPrime ^ ch) * FnvPrime));
                }

                i++;
            }
        }

        return tokens;
    }

    private static bool IsFormulaSymbol(char ch)
        => ch is '=' or '+' or '^' or '$' or '\\' or '%' or '/' or '*' or '<' or '>' or '(' or '_' or '{' or '|'
           || char.GetUnicodeCategory(ch) == System.Globalization.UnicodeCategory.MathSymbol;
}
