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
public static partial class RecordedDatasetReader
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
        var rows = new RowCollector(options);
        var lineNumber = 0;
        string? line;
        while ((line = text.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            rows.Lines++;
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
                rows.Add(document.RootElement, lineNumber);
            }
        }

        return rows.Build();
    }

    /// <summary>The rows read so far, the models they name and the unknown ones, in order of first appearance.</summary>
    private sealed class RowCollector(DatasetReadOptions options)
    {
        private readonly List<string> _models = [];
        private readonly Dictionary<string, int> _modelIndex = new(StringComparer.Ordinal);
        private readonly List<(int Id, string Category, string Source, string Question, string[] Options, string Answer, List<(int Model, RecordedAnswer Answer)> Answers)> _rows = [];
        private readonly HashSet<int> _seenIds = [];
        private readonly Dictionary<string, int> _unknown = new(StringComparer.Ordinal);

        public int Lines { get; set; }

        public void Add(JsonElement root, int lineNumber)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(lineNumber, "expected a JSON object per line");
            }

            var id = RequiredInt(root, "question_id", lineNumber);
            if (!_seenIds.Add(id))
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

            _rows.Add((id, category, source, question, optionTexts, answer, Answers(modelsElement, lineNumber)));
        }

        public RecordedDataset Build()
        {
            if (_rows.Count == 0)
            {
                throw new DatasetFormatException("the dataset has no questions (the stream was empty)");
            }

            var missing = _models.ToDictionary(m => m, _ => 0, StringComparer.Ordinal);
            var unextracted = _models.ToDictionary(m => m, _ => 0, StringComparer.Ordinal);
            var questions = new List<RecordedQuestion>(_rows.Count);
            foreach (var row in _rows)
            {
                var slots = new RecordedAnswer?[_models.Count];
                foreach (var (model, given) in row.Answers)
                {
                    slots[model] = given;
                    if (given.Prediction is null)
                    {
                        unextracted[_models[model]]++;
                    }
                }

                for (var m = 0; m < slots.Length; m++)
                {
                    if (slots[m] is null)
                    {
                        missing[_models[m]]++;
                    }
                }

                questions.Add(new RecordedQuestion(row.Id, row.Category, row.Source, row.Question, row.Options, row.Answer, slots));
            }

            var report = new DatasetReadReport
            {
                Questions = questions.Count,
                Lines = Lines,
                UnknownModels = _unknown,
                MissingAnswers = missing,
                UnextractedAnswers = unextracted,
            };
            return new RecordedDataset(_models, questions, report);
        }

        private List<(int, RecordedAnswer)> Answers(JsonElement modelsElement, int lineNumber)
        {
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

                    _unknown[name] = _unknown.GetValueOrDefault(name) + 1;
                }

                if (!_modelIndex.TryGetValue(name, out var index))
                {
                    index = _models.Count;
                    _models.Add(name);
                    _modelIndex.Add(name, index);
                }

                answers.Add((index, ReadAnswer(property.Value, name, lineNumber)));
            }

            return answers;
        }
    }
}
