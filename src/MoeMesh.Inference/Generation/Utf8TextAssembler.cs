using System.Text;

namespace MoeMesh.Inference.Generation;

/// <summary>
/// Turns the byte pieces of generated tokens into text without ever splitting a UTF-8 character:
/// an incomplete sequence at the end of a piece is held until the next piece completes it. Invalid
/// bytes become U+FFFD, exactly as decoding all the bytes at once would.
/// </summary>
public sealed class Utf8TextAssembler
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _characters = new char[64];

    /// <summary>Adds <paramref name="bytes"/> and returns the text they complete (possibly empty).</summary>
    public string Append(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>Returns what is held back, with U+FFFD for a sequence that never completed, and resets.</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        // Every call must go through GetChars, even when no character completes: that is how the
        // decoder takes the bytes of an unfinished character into its state.
        var most = bytes.Length + 4;
        if (_characters.Length < most)
        {
            _characters = new char[Math.Max(most, _characters.Length * 2)];
        }

        var written = _decoder.GetChars(bytes, _characters, flush);
        return written == 0 ? "" : new string(_characters, 0, written);
    }
}
