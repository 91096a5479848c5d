using System.IO.Compression;
using System.Text.Json;

namespace MoeMesh.Routing.Data;

/// <summary>The typed fields of one recorded line, and the gzip detection of the stream.</summary>
public static partial class RecordedDatasetReader
{
    private static RecordedAnswer ReadAnswer(JsonElement element, string model, int lineNumber)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(lineNumber, $"the entry of model '{model}' must be an object with 'pred' and 'out_chars'");
        }

        string? prediction = null;
        if (element.TryGetProperty("pred", out var pred))
        {
            prediction = pred.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => pred.GetString() is { Length: > 0 } p ? p : null,
                _ => throw Error(lineNumber, $"model '{model}': 'pred' must be a letter or null"),
            };
        }

        var outputChars = 0;
        if (element.TryGetProperty("out_chars", out var chars) && chars.ValueKind != JsonValueKind.Null)
        {
            if (chars.ValueKind != JsonValueKind.Number || !chars.TryGetInt32(out outputChars) || outputChars < 0)
            {
                throw Error(lineNumber, $"model '{model}': 'out_chars' must be a whole number of zero or more, got {chars.GetRawText()}");
            }
        }

        return new RecordedAnswer(prediction, outputChars);
    }

    private static Stream Decompressed(Stream stream)
    {
        // Peek at the first two bytes without needing a seekable stream.
        var head = new byte[2];
        var read = 0;
        while (read < head.Length)
        {
            var n = stream.Read(head, read, head.Length - read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        Stream whole = new PrefixedReadStream(head.AsMemory(0, read), stream);
        return read == 2 && head.AsSpan().SequenceEqual(GzipMagic)
            ? new GZipStream(whole, CompressionMode.Decompress, leaveOpen: true)
            : whole;
    }

    private static int RequiredInt(JsonElement root, string name, int lineNumber)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw Error(lineNumber, $"'{name}' is missing or not a whole number");

    private static string RequiredString(JsonElement root, string name, int lineNumber)
        => OptionalString(root, name, lineNumber) is { Length: > 0 } text
            ? text
            : throw Error(lineNumber, $"'{name}' is missing or empty");

    private static string? OptionalString(JsonElement root, string name, int lineNumber)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Error(lineNumber, $"'{name}' must be a string");
    }

    private static string[] RequiredStringArray(JsonElement root, string name, int lineNumber)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw Error(lineNumber, $"'{name}' is missing or not an array");
        }

        var items = new string[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            items[i++] = item.ValueKind == JsonValueKind.String
                ? item.GetString() ?? ""
                : throw Error(lineNumber, $"'{name}'[{i}] must be a string");
        }

        return items;
    }

    private static DatasetFormatException Error(int lineNumber, string message)
        => new($"line {lineNumber}: {message}") { LineNumber = lineNumber };

    /// <summary>Reads a few already-consumed bytes, then the rest of the inner stream.</summary>
    private sealed class PrefixedReadStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _remaining = prefix;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (!_remaining.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _remaining.Length);
                _remaining.Span[..n].CopyTo(buffer);
                _remaining = _remaining[n..];
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
