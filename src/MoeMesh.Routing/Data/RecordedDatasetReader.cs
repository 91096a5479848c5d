using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace MoeMesh.Routing.Data;

/// <summary>What to do with a model name the caller does not know.</summary>
public enum UnknownModelPolicy
{
    /// <summary>Keep the model's answers and list it in <see cref="DatasetReadReport.UnknownModels"/>.</summary>
    Report = 0,

    /// <summary>Fail with an error naming the model and the line.</summary>
    Reject = 1,
}

/// <summary>Settings for <see cref="RecordedDatasetReader"/>.</summary>
public sealed record DatasetReadOptions
{
    /// <summary>Model names the caller has figures for; null accepts every name without a report.</summary>
    public IReadOnlySet<string>? KnownModels { get; init; }

    /// <summary>What to do with names outside <see cref="KnownModels"/>.</summary>
    public UnknownModelPolicy UnknownModels { get; init; } = UnknownModelPolicy.Report;

    /// <summary>The longest line accepted, in characters; longer lines are a format error (guards against a wrong file).</summary>
    public int MaxLineChars { get; init; } = 4 * 1024 * 1024;
}

/// <summary>A line of the recorded dataset could not be read; the message names the line and the field.</summary>
public sealed class DatasetFormatException : FormatException
{
    public DatasetFormatException()
    {
    }

    public DatasetFormatException(string message)
        : base(message)
    {
    }

    public DatasetFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The 1-based line number where reading failed; 0 when not tied to a line.</summary>
    public int LineNumber { get; init; }
}

/// <summary>
/// Reads recorded model outputs: JSON Lines (optionally gzip'd, detected from the first bytes), one
/// question per line with <c>question_id</c>, <c>category</c>, <c>src</c>, <c>question</c>,
/// <c>options</c>, <c>answer</c> and <c>models</c> (name → <c>{pred, out_chars}</c>). Pure: the
/// caller opens the stream.
/// </summary>
public static class RecordedDatasetReader
{
    private static readonly byte[] GzipMagic = [0x1f, 0x8b];

    /// <summary>Reads every question from <paramref name="stream"/>; malformed lines throw <see cref="DatasetFormatException"/>.</summary>
    public static RecordedDataset Read(Stream stream, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new DatasetReadOptions();
        if (options.MaxLineChars < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxLineChars, "MaxLineChars must be positive");
        }

        using var text = new StreamReader(Decompressed(stream), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var models = new List<string>();
        var modelIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<(int Id, string Category, string Source, string Question, string[] Options, string Answer, List<(int Model, RecordedAnswer Answer)> Answers)>();
        var seenIds = new HashSet<int>();
        var unknown = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        var lines = 0;
        string? line;
        while ((line = text.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            lines++;
            if (line.Length > options.MaxLineChars)
            {
                throw Error(lineNumber, $"the line has {line.Length} characters, more than the {options.MaxLineChars} allowed; is this the recorded-outputs file?");
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new DatasetFormatException($"line {lineNumber}: not valid JSON ({e.Message})", e) { LineNumber = lineNumber };
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw Error(lineNumber, "expected a JSON object per line");
                }

                var id = RequiredInt(root, "question_id", lineNumber);
                if (!seenIds.Add(id))
                {
                    throw Error(lineNumber, $"question_id {id} appears more than once");
                }

                var category = RequiredString(root, "category", lineNumber);
                var source = OptionalString(root, "src", lineNumber) ?? "";
                var question = RequiredString(root, "question", lineNumber);
                var optionTexts = RequiredStringArray(root, "options", lineNumber);
                if (optionTexts.Length is 0 or > 26)
                {
                    throw Error(lineNumber, $"'options' must have 1 to 26 entries, got {optionTexts.Length}");
                }

                var answer = RequiredString(root, "answer", lineNumber);
                if (answer.Length != 1 || answer[0] < 'A' || answer[0] >= 'A' + optionTexts.Length)
                {
                    throw Error(lineNumber, $"'answer' must be a letter between A and {(char)('A' + optionTexts.Length - 1)}, got \"{answer}\"");
                }

                if (!root.TryGetProperty("models", out var modelsElement) || modelsElement.ValueKind != JsonValueKind.Object)
                {
                    throw Error(lineNumber, "'models' is missing or not an object");
                }

                var answers = new List<(int, RecordedAnswer)>();
                foreach (var property in modelsElement.EnumerateObject())
                {
                    var name = property.Name;
                    if (string.IsNullOrWhiteSpace(name))
                    {
                        throw Error(lineNumber, "a model name in 'models' is empty");
                    }

                    if (options.KnownModels is { } known && !known.Contains(name))
                    {
                        if (options.UnknownModels == UnknownModelPolicy.Reject)
                        {
                            throw Error(lineNumber, $"model '{name}' is not a known model (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
                        }

                        unknown[name] = unknown.GetValueOrDefault(name) + 1;
                    }

                    if (!modelIndex.TryGetValue(name, out var index))
                    {
                        index = models.Count;
                        models.Add(name);
                        modelIndex.Add(name, index);
                    }

                    answers.Add((index, ReadAnswer(property.Value, name, lineNumber)));
                }

                rows.Add((id, category, source, question, optionTexts, answer, answers));
            }
        }

        if (rows.Count == 0)
        {
            throw new DatasetFormatException("the dataset has no questions (the stream was empty)");
        }

        var missing = models.ToDictionary(m => m, _ => 0, StringComparer.Ordinal);
        var unextracted = models.ToDictionary(m => m, _ => 0, StringComparer.Ordinal);
        var questions = new List<RecordedQuestion>(rows.Count);
        foreach (var row in rows)
        {
            var slots = new RecordedAnswer?[models.Count];
            foreach (var (model, given) in row.Answers)
            {
                slots[model] = given;
                if (given.Prediction is null)
                {
                    unextracted[models[model]]++;
                }
            }

            for (var m = 0; m < slots.Length; m++)
            {
                if (slots[m] is null)
                {
                    missing[models[m]]++;
                }
            }

            questions.Add(new RecordedQuestion(row.Id, row.Category, row.Source, row.Question, row.Options, row.Answer, slots));
        }

        var report = new DatasetReadReport
        {
            Questions = questions.Count,
            Lines = lines,
            UnknownModels = unknown,
            MissingAnswers = missing,
            UnextractedAnswers = unextracted,
        };
        return new RecordedDataset(models, questions, report);
    }

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
