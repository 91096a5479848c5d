using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Grains.Monitoring;
using MoeMesh.Monitoring;

namespace MoeMesh.Grains.Tests.Monitoring;

public sealed class DecisionFeedTests
{
    [Fact]
    public void Decisions_wait_for_the_flush_delay_and_then_go_in_one_batch_in_order()
    {
        var time = new FakeTimeProvider();
        var sent = new List<IReadOnlyList<DecisionRecord>>();
        using var feed = new DecisionFeed(time, sent.Add, NullLogger.Instance);

        feed.Add(Decision("q1"));
        time.Advance(DecisionFeed.FlushDelay / 2);
        feed.Add(Decision("q2"));
        feed.Add(Decision("q3"));
        Assert.Empty(sent);
        Assert.Equal(3, feed.Pending);

        time.Advance(DecisionFeed.FlushDelay / 2);

        Assert.Equal(["q1", "q2", "q3"], Assert.Single(sent).Select(d => d.QueryId));
        Assert.Equal(0, feed.Pending);
    }

    [Fact]
    public void A_quiet_feed_sends_nothing_and_the_next_decision_starts_a_new_delay()
    {
        var time = new FakeTimeProvider();
        var sent = new List<IReadOnlyList<DecisionRecord>>();
        using var feed = new DecisionFeed(time, sent.Add, NullLogger.Instance);

        feed.Add(Decision("q1"));
        time.Advance(DecisionFeed.FlushDelay);
        time.Advance(DecisionFeed.FlushDelay * 10);
        Assert.Single(sent);

        feed.Add(Decision("q2"));
        time.Advance(DecisionFeed.FlushDelay - TimeSpan.FromMilliseconds(1));
        Assert.Single(sent);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, sent.Count);
        Assert.Equal("q2", Assert.Single(sent[1]).QueryId);
    }

    [Fact]
    public void A_full_batch_goes_at_once_so_the_buffer_stays_bounded()
    {
        var time = new FakeTimeProvider();
        var sent = new List<IReadOnlyList<DecisionRecord>>();
        using var feed = new DecisionFeed(time, sent.Add, NullLogger.Instance);

        for (var i = 0; i < DecisionFeed.MaxBatch + 1; i++)
        {
            feed.Add(Decision($"q{i}"));
            Assert.True(feed.Pending < DecisionFeed.MaxBatch);
        }

        Assert.Equal(DecisionFeed.MaxBatch, Assert.Single(sent).Count);
        Assert.Equal(1, feed.Pending);
        time.Advance(DecisionFeed.FlushDelay);
        Assert.Equal(2, sent.Count);
        Assert.Equal($"q{DecisionFeed.MaxBatch}", Assert.Single(sent[1]).QueryId);
    }

    [Fact]
    public void Disposing_sends_what_is_left_and_later_decisions_go_alone_at_once()
    {
        var time = new FakeTimeProvider();
        var sent = new List<IReadOnlyList<DecisionRecord>>();
        var feed = new DecisionFeed(time, sent.Add, NullLogger.Instance);
        feed.Add(Decision("q1"));
        feed.Add(Decision("q2"));

        feed.Dispose();
        Assert.Equal(["q1", "q2"], Assert.Single(sent).Select(d => d.QueryId));

        feed.Add(Decision("late"));
        Assert.Equal("late", Assert.Single(sent[1]).QueryId);
        time.Advance(DecisionFeed.FlushDelay * 2);
        Assert.Equal(2, sent.Count);
    }

    [Fact]
    public void A_batch_that_cannot_be_sent_is_logged_and_the_feed_keeps_going()
    {
        var time = new FakeTimeProvider();
        var logger = new CountingLogger();
        var attempts = 0;
        var sent = new List<IReadOnlyList<DecisionRecord>>();
        using var feed = new DecisionFeed(time, batch =>
        {
            if (++attempts == 1)
            {
                throw new InvalidOperationException("monitor unreachable");
            }

            sent.Add(batch);
        }, logger);

        feed.Add(Decision("q1"));
        time.Advance(DecisionFeed.FlushDelay);
        feed.Add(Decision("q2"));
        time.Advance(DecisionFeed.FlushDelay);

        Assert.Equal(1, logger.Warnings);
        Assert.Equal("q2", Assert.Single(Assert.Single(sent)).QueryId);
    }

    private static DecisionRecord Decision(string id) => new() { QueryId = id, Excerpt = id };

    private sealed class CountingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public int Warnings { get; private set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == Microsoft.Extensions.Logging.LogLevel.Warning && exception is not null)
            {
                Warnings++;
            }
        }
    }
}
