using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Experts.Engines;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Tests.Experts.Engines;

public sealed class DeadlineExpertEngineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly EngineCalibration TenMsPerToken = new() { PrefillMsPerToken = 0, DecodeMsPerToken = 10, OverheadMs = 0, LoadSlowdown = 1 };

    [Fact]
    public async Task The_budget_reaches_the_engine_and_caps_the_tokens_to_fit()
    {
        var engine = new KnownSpeedEngine(ManifestFiles.Scripted("known", ["general"])) { NaturalOutputTokens = 1000 };
        var deadline = new DeadlineExpertEngine(engine, () => TenMsPerToken, () => 0, new FakeTimeProvider());

        var metrics = await CalibratingExpertEngineTests.Drain(deadline.GenerateAsync(new GenerationRequest { RawPrompt = "hi", MaxTokens = 500, TimeBudgetMs = 100 }));

        var seen = Assert.Single(engine.Requests);
        Assert.Equal(100, seen.TimeBudgetMs);
        Assert.Equal(11, seen.MaxTokens);
        Assert.Equal(FinishReason.Budget, metrics.FinishReason);
    }

    [Fact]
    public async Task Other_sequences_on_the_engine_leave_room_for_fewer_tokens()
    {
        var engine = new KnownSpeedEngine(ManifestFiles.Scripted("known", ["general"])) { NaturalOutputTokens = 1000 };
        var deadline = new DeadlineExpertEngine(engine, () => TenMsPerToken, () => 1, new FakeTimeProvider());

        await CalibratingExpertEngineTests.Drain(deadline.GenerateAsync(new GenerationRequest { RawPrompt = "hi", MaxTokens = 500, TimeBudgetMs = 100 }));

        Assert.Equal(6, Assert.Single(engine.Requests).MaxTokens);
    }

    [Fact]
    public async Task Without_a_budget_the_request_passes_unchanged()
    {
        var engine = new KnownSpeedEngine(ManifestFiles.Scripted("known", ["general"])) { NaturalOutputTokens = 20 };
        var deadline = new DeadlineExpertEngine(engine, () => TenMsPerToken, () => 0, new FakeTimeProvider());
        var request = new GenerationRequest { RawPrompt = "hi", MaxTokens = 500 };

        var metrics = await CalibratingExpertEngineTests.Drain(deadline.GenerateAsync(request));

        Assert.Same(request, Assert.Single(engine.Requests));
        Assert.Equal(FinishReason.EndOfText, metrics.FinishReason);
    }

    [Fact]
    public async Task An_engine_that_ignores_the_deadline_is_stopped_there_with_a_budget_finish()
    {
        var time = new FakeTimeProvider();
        var deadline = new DeadlineExpertEngine(new StuckEngine(), () => null, () => 0, time);

        await using var stream = deadline.GenerateAsync(new GenerationRequest { RawPrompt = "hi", TimeBudgetMs = 100 }).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Bound));
        Assert.Equal("first", stream.Current.Text);

        var next = stream.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(next.IsCompleted, "the run was stopped before its deadline");
        time.Advance(DeadlineExpertEngine.Grace(100) + TimeSpan.FromMilliseconds(1));

        Assert.True(await next.WaitAsync(Bound));
        var metrics = Assert.IsType<GenerationMetrics>(stream.Current.Metrics);
        Assert.Equal(FinishReason.Budget, metrics.FinishReason);
        Assert.Equal(1, metrics.GeneratedTokens);
        Assert.False(await stream.MoveNextAsync());
    }

    [Fact]
    public async Task The_callers_own_cancellation_still_ends_the_stream_with_cancellation()
    {
        var deadline = new DeadlineExpertEngine(new StuckEngine(), () => null, () => 0, new FakeTimeProvider());
        using var cancel = new CancellationTokenSource();

        var stream = deadline.GenerateAsync(new GenerationRequest { RawPrompt = "hi", TimeBudgetMs = 100 }, cancel.Token).GetAsyncEnumerator(cancel.Token);
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(Bound));
        var next = stream.MoveNextAsync().AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(Bound));
    }

    /// <summary>Says one word, then waits until cancelled: an engine that never looks at the budget.</summary>
    private sealed class StuckEngine : IExpertEngine
    {
        public ExpertManifest Manifest { get; } = ManifestFiles.Scripted("stuck", ["general"]);

        public long ResidentBytes => 1;

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield return new GenerationChunk { Text = "first" };
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield return new GenerationChunk { Text = "never" };
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
