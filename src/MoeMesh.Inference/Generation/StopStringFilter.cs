namespace MoeMesh.Inference.Generation;

/// <summary>
/// Cuts generated text at the first stop string. Text that might be the start of a stop string is
/// held back until it is clear either way, so a partial match never reaches the caller; when the
/// stop string appears, nothing from it on is emitted.
/// </summary>
public sealed class StopStringFilter
{
    private readonly string[] _stops;
    private readonly int _longestStop;
    private string _pending = "";

    public StopStringFilter(IReadOnlyList<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        if (stops.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Stop strings must not be empty.", nameof(stops));
        }

        _stops = [.. stops];
        _longestStop = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>True once a stop string was found; later text is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop string found, or null.</summary>
    public string? MatchedStop { get; private set; }

    /// <summary>Adds <paramref name="text"/> and returns what can safely be emitted now.</summary>
    public string Append(string text)
    {
        if (Stopped || text.Length == 0)
        {
            return "";
        }

        if (_stops.Length == 0)
        {
            return text;
        }

        var buffer = _pending + text;

        // The earliest stop string wins, whichever it is.
        var cut = -1;
        foreach (var stop in _stops)
        {
            var index = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (cut < 0 || index < cut))
            {
                cut = index;
                MatchedStop = stop;
            }
        }

        if (cut >= 0)
        {
            Stopped = true;
            _pending = "";
            return buffer[..cut];
        }

        var held = HeldSuffixLength(buffer);
        _pending = buffer[(buffer.Length - held)..];
        return buffer[..(buffer.Length - held)];
    }

    /// <summary>Returns the held text (it was not a stop string after all) and resets.</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    /// <summary>Length of the longest suffix of <paramref name="buffer"/> that is a proper prefix of a stop string.</summary>
    private int HeldSuffixLength(string buffer)
    {
        for (var length = Math.Min(_longestStop - 1, buffer.Length); length > 0; length--)
        {
            var suffix = buffer.AsSpan(buffer.Length - length);
            foreach (var stop in _stops)
            {
                if (stop.Length > length && stop.AsSpan().StartsWith(suffix, StringComparison.Ordinal))
                {
                    return length;
                }
            }
        }

        return 0;
    }
}
