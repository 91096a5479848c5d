using System.Globalization;

namespace MoeMesh.Inference.Synthesis;

/// <summary>Token kinds as llama.cpp's <c>tokenizer.ggml.token_type</c> records them.</summary>
internal enum SynthesisTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    Byte = 6,
}

/// <summary>
/// A SentencePiece-style vocabulary (<c>tokenizer.ggml.model = "llama"</c>) with byte fallback: the
/// special tokens, the 256 <c>&lt;0xNN&gt;</c> byte tokens (so any text round-trips), the printable
/// ASCII characters and '▁' (the space marker), then pieces learned by byte-pair merging over
/// <see cref="SynthesisCorpus"/>. Merge order becomes the score, which is what llama.cpp's SPM
/// tokenizer uses to decide which pair to join first.
/// </summary>
internal sealed class ByteFallbackVocabulary
{
    public const int UnknownId = 0;
    public const int BeginId = 1;
    public const int EndId = 2;
    public const int ChatStartId = 3;
    public const int ChatEndId = 4;
    public const char SpaceMarker = '\u2581';

    private ByteFallbackVocabulary(List<string> tokens, List<float> scores, List<SynthesisTokenType> types)
    {
        Tokens = tokens;
        Scores = scores;
        Types = types;
    }

    public IReadOnlyList<string> Tokens { get; }

    public IReadOnlyList<float> Scores { get; }

    public IReadOnlyList<SynthesisTokenType> Types { get; }

    /// <summary>The smallest vocabulary: specials, bytes, characters.</summary>
    public static int MinimumSize => 5 + 256 + 95;

    /// <summary>Builds a vocabulary of exactly <paramref name="size"/> tokens, or fewer merges when the corpus runs out of pairs.</summary>
    public static ByteFallbackVocabulary Build(int size)
    {
        if (size < MinimumSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A byte-fallback vocabulary needs at least {MinimumSize} tokens.");
        }

        var tokens = new List<string> { "<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>" };
        var types = new List<SynthesisTokenType>
        {
            SynthesisTokenType.Unknown, SynthesisTokenType.Control, SynthesisTokenType.Control,
            SynthesisTokenType.Control, SynthesisTokenType.Control,
        };
        var scores = new List<float> { 0, 0, 0, 0, 0 };
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"));
            types.Add(SynthesisTokenType.Byte);
            scores.Add(0);
        }

        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        var characters = new List<string> { SpaceMarker.ToString() };
        for (var c = 0x21; c < 0x7F; c++)
        {
            characters.Add(((char)c).ToString());
        }

        foreach (var character in characters)
        {
            tokens.Add(character);
            types.Add(SynthesisTokenType.Normal);
            scores.Add(-1000f - tokens.Count);
            known.Add(character);
        }

        foreach (var (piece, rank) in LearnMerges(size - tokens.Count, known).Select((p, i) => (p, i)))
        {
            tokens.Add(piece);
            types.Add(SynthesisTokenType.Normal);
            scores.Add(-rank);
        }

        return new ByteFallbackVocabulary(tokens, scores, types);
    }

    /// <summary>Byte-pair merging over the corpus words; returns merged pieces, most frequent first.</summary>
    private static List<string> LearnMerges(int count, HashSet<string> known)
    {
        // SentencePiece marks each word's leading space with '▁' and llama.cpp adds one before the text.
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var word in SynthesisCorpus.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var marked = SpaceMarker + word;
            words[marked] = words.GetValueOrDefault(marked) + 1;
        }

        var segmented = words.Select(w => (Pieces: w.Key.Select(c => c.ToString()).ToList(), Count: w.Value)).ToList();
        var merges = new List<string>();
        while (merges.Count < count)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (pieces, frequency) in segmented)
            {
                for (var i = 0; i + 1 < pieces.Count; i++)
                {
                    var pair = (pieces[i], pieces[i + 1]);
                    pairs[pair] = pairs.GetValueOrDefault(pair) + frequency;
                }
            }

            // Most frequent pair first; ties broken by text so the result never depends on hashing.
            var best = pairs
                .Where(p => !known.Contains(p.Key.Item1 + p.Key.Item2))
                .OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1 + "\u0000" + p.Key.Item2, StringComparer.Ordinal)
                .Select(p => p.Key)
                .FirstOrDefault();
            if (best == default)
            {
                break;
            }

            var merged = best.Item1 + best.Item2;
            merges.Add(merged);
            known.Add(merged);
            foreach (var (pieces, _) in segmented)
            {
                for (var i = 0; i + 1 < pieces.Count; i++)
                {
                    if (pieces[i] == best.Item1 && pieces[i + 1] == best.Item2)
                    {
                        pieces[i] = merged;
                        pieces.RemoveAt(i + 1);
                    }
                }
            }
        }

        return merges;
    }
}
