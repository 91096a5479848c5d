using MoeMesh.Inference.Benchmarks;
using MoeMesh.Inference.Llama.Runtime;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Benchmarks;

/// <summary>Checks the benchmark works end to end on a tiny workload; it asserts nothing about speed.</summary>
public sealed class LlamaBenchmarkTests
{
    [Fact]
    public async Task The_engine_and_the_c_harness_generate_the_same_text_and_report_figures()
    {
        using var directory = new TemporaryDirectory();
        var messages = new List<string>();
        var report = await LlamaBenchmark.RunAsync(
            new LlamaBenchmarkOptions { Threads = 1, DecodeTokens = 12, Layers = 1, Hidden = 64, Rounds = 2, BatchSequences = [1, 3], WorkDirectory = directory.Path },
            new Progress<string>(messages.Add));

        Assert.True(report.OutputsMatch);
        Assert.Equal(1, report.Single.Sequences);
        Assert.True(report.Single.Engine.DecodeTokensPerSecond > 0);
        Assert.True(report.Single.Harness.DecodeTokensPerSecond > 0);
        Assert.True(report.Single.DecodeRatio > 0);
        Assert.Equal([1, 3], report.Batched.Select(b => b.Sequences));
        Assert.All(report.Batched, b => Assert.True(b.Engine.TotalTokensPerSecond > 0 && b.Harness.TotalTokensPerSecond > 0));
        Assert.Contains(LlamaBuild.LlamaCppShortCommit, report.LlamaVersion);
        Assert.Equal(LlamaRuntime.EnsureInitialized().LibraryPath, report.LibraryPath);
        Assert.True(report.PromptTokens > 10);
    }

    [Fact]
    public async Task Invalid_options_are_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => LlamaBenchmark.RunAsync(new LlamaBenchmarkOptions { Threads = 0, Hidden = 100 }));
        Assert.Contains("threads", error.Message);
        Assert.Contains("hidden", error.Message);
    }
}
