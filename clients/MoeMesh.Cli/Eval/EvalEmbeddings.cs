using System.Diagnostics;
using MoeMesh.Embeddings;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Text;

namespace MoeMesh.Cli.Eval;

/// <summary>
/// Sentence embeddings for <c>moemesh eval</c>: every recorded question's vector from the on-disk
/// cache (keyed by the data file's hash), computed once with a progress bar when missing.
/// </summary>
internal static class EvalEmbeddings
{
    public static EvaluationEmbeddings Load(string dataFile, RecordedDataset dataset, MiniLmTextEmbedder embedder, string? cacheFolder, TextWriter error, CancellationToken cancellationToken)
    {
        var folder = cacheFolder ?? EmbeddingCache.DefaultFolder;
        var texts = dataset.Questions.Select(q => (q.QuestionId, q.Question)).ToArray();
        var path = EmbeddingCache.PathFor(folder, dataFile, embedder.ModelId);
        error.WriteLine($"embeddings: {embedder.ModelId}, cache {path}");
        var bar = new ProgressBar(error, "embedding questions");
        var vectors = EmbeddingCache.LoadOrCompute(dataFile, texts, embedder, folder, bar, m => error.WriteLine($"warning: {m}"), cancellationToken);
        bar.Finish();
        return new EvaluationEmbeddings(embedder.ModelId, new QuestionEmbeddings(vectors, embedder.Dimension), embedder.Embed);
    }

    /// <summary>A one-line progress bar on standard error, redrawn at most every 200 ms.</summary>
    private sealed class ProgressBar(TextWriter output, string label) : IProgress<EmbeddingProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _last = TimeSpan.MinValue;
        private bool _drawn;

        public void Report(EmbeddingProgress value)
        {
            if (value.Done != value.Total && _clock.Elapsed - _last < TimeSpan.FromMilliseconds(200))
            {
                return;
            }

            _last = _clock.Elapsed;
            const int Width = 30;
            var share = value.Total == 0 ? 1 : value.Done / (double)value.Total;
            var filled = (int)(share * Width);
            var rate = value.Done / Math.Max(1e-3, _clock.Elapsed.TotalSeconds);
            var left = rate > 0 ? TimeSpan.FromSeconds((value.Total - value.Done) / rate) : TimeSpan.Zero;
            output.Write($"\r{label} [{new string('#', filled)}{new string('.', Width - filled)}] {value.Done}/{value.Total} {share:0%} {rate:0.0}/s, {left:mm\\:ss} left ");
            _drawn = true;
        }

        public void Finish()
        {
            if (_drawn)
            {
                output.WriteLine();
            }
        }
    }
}
