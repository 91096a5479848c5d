using System.Text;
using MoeMesh.Routing.Data;

namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// The recorded MMLU-Pro outputs in memory, with an index from question text to questions. Read
/// once per file and process (see <see cref="ReplayRecordings"/>) and shared by every replay
/// expert: immutable, so any number of concurrent generations may read it.
/// </summary>
public sealed class ReplayRecording
{
    /// <summary>The file name of the recorded outputs inside their folder.</summary>
    public const string DefaultFileName = "mmlu_pro_29_models.jsonl.gz";

    private const string NoMatch = "no recorded question's text starts the prompt";

    // Normalized question text → indices of the questions with that text, in file order.
    private readonly Dictionary<ulong, int[]> _byText;

    private ReplayRecording(string path, RecordedDataset dataset)
    {
        Path = path;
        Dataset = dataset;
        var groups = new Dictionary<ulong, List<int>>();
        for (var i = 0; i < dataset.Questions.Count; i++)
        {
            var hash = NormalizedText.Hash(dataset.Questions[i].Question);
            if (!groups.TryGetValue(hash, out var list))
            {
                list = new List<int>(1);
                groups[hash] = list;
            }

            list.Add(i);
        }

        _byText = groups.ToDictionary(g => g.Key, g => g.Value.ToArray());
    }

    /// <summary>The file the recording was read from.</summary>
    public string Path { get; }

    /// <summary>The questions and every model's recorded answers.</summary>
    public RecordedDataset Dataset { get; }

    /// <summary>
    /// The recorded-outputs file for <paramref name="path"/>: the path itself when it is a file, or
    /// <see cref="DefaultFileName"/> (else the only <c>*.jsonl.gz</c> / <c>*.jsonl</c> file) inside it when it is a folder.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing usable is there.</exception>
    public static string ResolveFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return full;
        }

        if (!Directory.Exists(full))
        {
            throw new FileNotFoundException($"the recorded outputs {full} do not exist", full);
        }

        var preferred = System.IO.Path.Combine(full, DefaultFileName);
        if (File.Exists(preferred))
        {
            return preferred;
        }

        var files = Directory.EnumerateFiles(full, "*.jsonl.gz").Concat(Directory.EnumerateFiles(full, "*.jsonl")).Order(StringComparer.Ordinal).ToList();
        return files.Count switch
        {
            1 => files[0],
            0 => throw new FileNotFoundException($"the folder {full} holds no {DefaultFileName} (nor any *.jsonl.gz / *.jsonl file)", preferred),
            _ => throw new FileNotFoundException($"the folder {full} holds no {DefaultFileName} but several recordings ({string.Join(", ", files.Select(System.IO.Path.GetFileName))}); name the file", preferred),
        };
    }

    /// <summary>Reads the recording at <paramref name="file"/>.</summary>
    /// <exception cref="DatasetFormatException">A line is malformed.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="InvalidDataException">The file is not valid gzip.</exception>
    public static ReplayRecording Read(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        var dataset = RecordedDatasetReader.Read(stream);
        if (dataset.Questions.Count == 0)
        {
            throw new InvalidDataException($"{file} holds no recorded questions");
        }

        return new ReplayRecording(file, dataset);
    }

    /// <summary>
    /// Output tokens <c>moemesh eval</c> predicts for the model at <paramref name="slot"/>: its mean
    /// recorded output length on the training split at <paramref name="charsPerToken"/>, when at least
    /// 20 training answers have a length; null otherwise (the caller's assumed length applies).
    /// </summary>
    public int? TrainingMeanOutputTokens(int slot, double charsPerToken)
    {
        const int MinRecorded = 20;
        long chars = 0;
        var recorded = 0;
        foreach (var question in Dataset.Questions)
        {
            if (!DataSplit.Default.IsHeldOut(question.QuestionId) && question.TryGetAnswer(slot, out var answer) && answer.OutputChars > 0)
            {
                chars += answer.OutputChars;
                recorded++;
            }
        }

        return recorded >= MinRecorded ? Math.Max(1, (int)Math.Round(chars / (double)recorded / charsPerToken)) : null;
    }

    /// <summary>
    /// Finds the recorded question a prompt asks. The prompt starts with the question text (optionally
    /// after a "Question:" label); the longest line-ending prefix whose text is a recorded question's
    /// wins. When the text is followed by lettered options ("A. …"), they must be that question's
    /// options, which tells apart questions with the same text; among questions identical in text and
    /// options the first in the file is used.
    /// </summary>
    public QuestionMatch Match(ReadOnlySpan<char> prompt)
    {
        var match = MatchFrom(prompt, 0);
        var label = LabelEnd(prompt);
        if (match.Question is not null || label == 0)
        {
            return match;
        }

        // An aggregator's prompt labels the question; a match after the label, or its more specific
        // problem, is the better answer.
        var labelled = MatchFrom(prompt, label);
        return labelled.Question is not null || match.Problem == NoMatch ? labelled : match;
    }

    private QuestionMatch MatchFrom(ReadOnlySpan<char> prompt, int start)
    {
        var text = prompt[start..];
        var found = new List<(int End, int[] Candidates)>(2);
        var hasher = new NormalizedText.Hasher();
        for (var i = 0; ; i++)
        {
            if (i == text.Length || text[i] == '\n')
            {
                if (!hasher.IsEmpty && _byText.TryGetValue(hasher.Value, out var candidates))
                {
                    found.Add((i, candidates));
                }

                if (i == text.Length)
                {
                    break;
                }
            }

            hasher.Add(text[i]);
        }

        RecordedQuestion? fallback = null;
        var fallbackEnd = 0;
        List<int>? optionMismatch = null;
        for (var h = found.Count - 1; h >= 0; h--)
        {
            var (end, candidates) = found[h];
            var head = text[..end];
            var rest = text[end..];
            RecordedQuestion? first = null;
            var sameText = new List<int>(candidates.Length);
            foreach (var index in candidates)
            {
                var question = Dataset.Questions[index];
                if (!NormalizedText.Equal(question.Question, head))
                {
                    continue;
                }

                first ??= question;
                sameText.Add(question.QuestionId);
                if (OptionsFollow(question, rest))
                {
                    return new QuestionMatch(question, start + end, null);
                }
            }

            if (first is null)
            {
                continue;
            }

            if (NormalizedText.StartsWithWords(rest, "A."))
            {
                optionMismatch ??= [];
                optionMismatch.AddRange(sameText);
            }
            else if (fallback is null)
            {
                fallback = first;
                fallbackEnd = start + end;
            }
        }

        if (fallback is not null)
        {
            return new QuestionMatch(fallback, fallbackEnd, null);
        }

        return new QuestionMatch(null, 0, optionMismatch is { Count: > 0 }
            ? $"its text is that of recorded question {string.Join(", ", optionMismatch.Distinct())}, but its options are not"
            : NoMatch);
    }

    /// <summary>True when <paramref name="rest"/> starts with <paramref name="question"/>'s options written "A. …", one per line.</summary>
    private static bool OptionsFollow(RecordedQuestion question, ReadOnlySpan<char> rest)
    {
        if (question.Options.Count == 0)
        {
            return false;
        }

        var block = new StringBuilder(question.Options.Sum(o => o.Length + 4));
        for (var i = 0; i < question.Options.Count; i++)
        {
            block.Append((char)('A' + i)).Append(". ").Append(question.Options[i]).Append('\n');
        }

        return NormalizedText.StartsWithWords(rest, block.ToString());
    }

    /// <summary>Where the text after a leading "Question:" label starts, or 0 when there is none.</summary>
    private static int LabelEnd(ReadOnlySpan<char> prompt)
    {
        const string Label = "Question:";
        var trimmed = prompt.TrimStart();
        return trimmed.StartsWith(Label, StringComparison.OrdinalIgnoreCase)
            ? prompt.Length - trimmed.Length + Label.Length
            : 0;
    }
}

/// <summary>The outcome of <see cref="ReplayRecording.Match"/>.</summary>
/// <param name="Question">The recorded question, or null when none matches.</param>
/// <param name="End">Where the question text ends in the prompt (its options and anything else follow).</param>
/// <param name="Problem">Why nothing matched, when nothing did.</param>
public readonly record struct QuestionMatch(RecordedQuestion? Question, int End, string? Problem);
