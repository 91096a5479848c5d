using MoeMesh.Inference.Moe.Benchmarks;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Moe.Benchmarks;

/// <summary>The benchmark's plumbing on a tiny model (speed itself is never asserted).</summary>
public sealed class MoeDecodeBenchmarkTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    [Fact]
    public void ReportsBothEnginesAndTheOracleFigures()
    {
        var progress = new List<string>();
        var report = MoeDecodeBenchmark.Run(
            new MoeBenchmarkOptions
            {
                Synthesis = new MoeSynthesisOptions { Architecture = "qwen2moe", Name = "tiny-bench", Hidden = 32, Experts = 4, TopK = 2 },
                WorkFolder = _folder.Path,
                Threads = 1,
                PromptTokens = 8,
                DecodeTokens = 6,
                Rounds = 2,
            },
            new SynchronousProgress(progress.Add));

        Assert.Equal("qwen2moe", report.Shape.Architecture);
        Assert.True(report.LlamaCpp.TokensPerSecond > 0 && report.Monolithic.TokensPerSecond > 0);
        Assert.Equal(2, report.Monolithic.Rounds.Count);
        Assert.True(report.Oracle.Passes, $"oracle ratio {report.Oracle.MaxAbsLogitDiffRatio:E2}");
        Assert.Contains(progress, line => line.StartsWith("round 2/2", StringComparison.Ordinal));
        Assert.True(File.Exists(_folder.File("tiny-bench.gguf")));
    }

    [Fact]
    public void BadOptionsAreRejectedBeforeAnyWork()
    {
        var error = Assert.Throws<ArgumentException>(() => MoeDecodeBenchmark.Run(new MoeBenchmarkOptions { Rounds = 0, ModelPath = _folder.File("absent.gguf") }));

        Assert.Contains("rounds must be 1..100", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();

    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
