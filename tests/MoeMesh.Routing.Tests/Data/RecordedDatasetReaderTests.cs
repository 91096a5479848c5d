using System.IO.Compression;
using System.Text;
using MoeMesh.Routing.Data;

namespace MoeMesh.Routing.Tests.Data;

public sealed class RecordedDatasetReaderTests
{
    private const string Line1 = """{"question_id": 70, "category": "business", "src": "ori_mmlu-business_ethics", "question": "Q one?", "options": ["a", "b", "c"], "answer": "B", "models": {"Model-A": {"pred": "B", "out_chars": 812}, "Model-B": {"pred": null, "out_chars": 0}}}""";
    private const string Line2 = """{"question_id": 71, "category": "law", "src": "ori_mmlu-jurisprudence", "question": "Q two?", "options": ["a", "b"], "answer": "A", "models": {"Model-A": {"pred": "B", "out_chars": 0}}}""";

    [Fact]
    public void Reads_plain_and_gzip_json_lines_alike()
    {
        var text = Line1 + "\n\n" + Line2 + "\n";
        foreach (var bytes in new[] { Encoding.UTF8.GetBytes(text), Gzip(text) })
        {
            var dataset = RecordedDatasetReader.Read(new MemoryStream(bytes));
            Assert.Equal(["Model-A", "Model-B"], dataset.Models);
            Assert.Equal(2, dataset.Questions.Count);
            var first = dataset.Questions[0];
            Assert.Equal(70, first.QuestionId);
            Assert.Equal("business", first.Category);
            Assert.Equal("ori_mmlu-business_ethics", first.Source);
            Assert.Equal(["a", "b", "c"], first.Options);
            Assert.True(first.IsCorrect(dataset.ModelIndex("Model-A")));
            Assert.False(first.IsCorrect(dataset.ModelIndex("Model-B")));
            Assert.True(first.TryGetAnswer(0, out var answer));
            Assert.Equal(812, answer.OutputChars);

            // Model-B did not answer question 71: unavailable, not wrong.
            Assert.Null(dataset.Questions[1].IsCorrect(dataset.ModelIndex("Model-B")));
            Assert.Equal(1, dataset.Report.MissingAnswers["Model-B"]);
            Assert.Equal(1, dataset.Report.UnextractedAnswers["Model-B"]);
            Assert.Equal("Q one?\nA. a\nB. b\nC. c", first.PromptText);
        }
    }

    [Fact]
    public void Reads_a_stream_that_cannot_seek()
    {
        var dataset = RecordedDatasetReader.Read(new ForwardOnlyStream(Gzip(Line1 + "\n")));
        Assert.Single(dataset.Questions);
    }

    [Fact]
    public void Unknown_model_names_are_reported_not_skipped()
    {
        var dataset = RecordedDatasetReader.Read(Plain(Line1, Line2), new DatasetReadOptions { KnownModels = new HashSet<string> { "Model-A" } });
        Assert.Equal(1, dataset.Report.UnknownModels["Model-B"]);
        Assert.Contains("Model-B", dataset.Models);
        var warning = Assert.Single(dataset.Report.Warnings);
        Assert.Contains("'Model-B'", warning, StringComparison.Ordinal);
        Assert.Contains("not a known model", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_model_names_can_be_refused()
    {
        var error = Assert.Throws<DatasetFormatException>(() => RecordedDatasetReader.Read(
            Plain(Line1),
            new DatasetReadOptions { KnownModels = new HashSet<string> { "Model-A" }, UnknownModels = UnknownModelPolicy.Reject }));
        Assert.Equal(1, error.LineNumber);
        Assert.Contains("'Model-B' is not a known model", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("""{"category": "x", "question": "q", "options": ["a"], "answer": "A", "models": {}}""", "'question_id' is missing")]
    [InlineData("""{"question_id": 3, "category": "x", "question": "q", "options": ["a", "b"], "answer": "D", "models": {}}""", "'answer' must be a letter between A and B")]
    [InlineData("""{"question_id": 3, "category": "x", "question": "q", "options": ["a"], "answer": "A"}""", "'models' is missing")]
    [InlineData("""{"question_id": 3, "category": "x", "question": "q", "options": ["a"], "answer": "A", "models": {"M": {"pred": "A", "out_chars": -4}}}""", "'out_chars' must be a whole number of zero or more")]
    [InlineData("""{"question_id": 3, "category": "x", "question": "q", "options": ["a"], "answer": "A", "models": {"M": {"pred": 7}}}""", "'pred' must be a letter or null")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    public void Malformed_lines_fail_with_the_line_and_the_field(string badLine, string expected)
    {
        var error = Assert.Throws<DatasetFormatException>(() => RecordedDatasetReader.Read(Plain(Line1, badLine)));
        Assert.Equal(2, error.LineNumber);
        Assert.StartsWith("line 2:", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_ids_and_empty_streams_are_errors()
    {
        Assert.Contains("appears more than once", Assert.Throws<DatasetFormatException>(() => RecordedDatasetReader.Read(Plain(Line1, Line1))).Message, StringComparison.Ordinal);
        Assert.Contains("no questions", Assert.Throws<DatasetFormatException>(() => RecordedDatasetReader.Read(new MemoryStream())).Message, StringComparison.Ordinal);
    }

    private static MemoryStream Plain(params string[] lines) => new(Encoding.UTF8.GetBytes(string.Join('\n', lines)));

    private static byte[] Gzip(string text)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
