namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// Text compared the way a prompt's question is matched to a recording: every run of whitespace
/// counts as one space and leading and trailing whitespace is ignored, so line endings, wrapping
/// and indentation do not matter. Works on spans without allocating.
/// </summary>
internal static class NormalizedText
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    /// <summary>FNV-1a hash of the normalized form of <paramref name="text"/>.</summary>
    public static ulong Hash(ReadOnlySpan<char> text)
    {
        var hasher = new Hasher();
        foreach (var c in text)
        {
            hasher.Add(c);
        }

        return hasher.Value;
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> have the same normalized form.</summary>
    public static bool Equal(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var x = new Reader(a);
        var y = new Reader(b);
        while (true)
        {
            var hasX = x.TryRead(out var cx);
            var hasY = y.TryRead(out var cy);
            if (hasX != hasY)
            {
                return false;
            }

            if (!hasX)
            {
                return true;
            }

            if (cx != cy)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// True when the normalized form of <paramref name="text"/> starts with the normalized form of
    /// <paramref name="prefix"/> and the match ends at a word boundary (the end of the text or a space).
    /// </summary>
    public static bool StartsWithWords(ReadOnlySpan<char> text, ReadOnlySpan<char> prefix)
    {
        var t = new Reader(text);
        var p = new Reader(prefix);
        while (p.TryRead(out var cp))
        {
            if (!t.TryRead(out var ct) || ct != cp)
            {
                return false;
            }
        }

        return !t.TryRead(out var next) || next == ' ';
    }

    /// <summary>The normalized form of <paramref name="text"/> as a string.</summary>
    public static string Normalize(ReadOnlySpan<char> text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        var reader = new Reader(text);
        while (reader.TryRead(out var c))
        {
            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Streams the normalized characters of a span.</summary>
    public ref struct Reader(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private int _position;
        private bool _started;

        public bool TryRead(out char c)
        {
            while (_position < _text.Length)
            {
                var current = _text[_position++];
                if (char.IsWhiteSpace(current))
                {
                    // Skip the rest of the run; emit one space only if more text follows.
                    while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
                    {
                        _position++;
                    }

                    if (_started && _position < _text.Length)
                    {
                        c = ' ';
                        return true;
                    }

                    continue;
                }

                _started = true;
                c = current;
                return true;
            }

            c = default;
            return false;
        }
    }

    /// <summary>
    /// A running hash of normalized text fed one character at a time; <see cref="Value"/> is the hash
    /// of everything fed so far with trailing whitespace ignored, so it can be read at any line end.
    /// </summary>
    public struct Hasher()
    {
        private ulong _hash = FnvOffset;
        private bool _started;
        private bool _spacePending;

        public readonly ulong Value => _hash;

        public readonly bool IsEmpty => !_started;

        public void Add(char c)
        {
            if (char.IsWhiteSpace(c))
            {
                _spacePending = _started;
                return;
            }

            if (_spacePending)
            {
                Mix(' ');
                _spacePending = false;
            }

            _started = true;
            Mix(c);
        }

        private void Mix(char c)
        {
            _hash = (_hash ^ c) * FnvPrime;
        }
    }
}
