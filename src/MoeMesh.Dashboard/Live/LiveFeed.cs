using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoeMesh.Dashboard.Hosting;
using MoeMesh.Monitoring;
using MoeMesh.Serialization;

namespace MoeMesh.Dashboard.Live;

/// <summary>A message for live pages: an SSE event name, its JSON data, and for decisions their sequence.</summary>
public sealed record LiveMessage(string Event, string Data, long Sequence = 0);

/// <summary>
/// Reads the mesh monitor and the catalog every <see cref="MoeMeshDashboardOptions.LiveIntervalMs"/> while at
/// least one page is open, and fans the changes out to every open page: the mesh view when it changed, and
/// each new routing decision once. With no page open it reads nothing.
/// </summary>
public sealed partial class LiveFeed(MeshReader reader, DashboardSettings settings, TimeProvider time, ILogger<LiveFeed> logger) : BackgroundService
{
    /// <summary>Messages a slow page may fall behind by before the oldest are dropped.</summary>
    internal const int SubscriberBuffer = 256;

    private readonly ConcurrentDictionary<Subscription, byte> _subscribers = new();
    private readonly Lock _cursorLock = new();
    private long? _cursor;
    private string? _lastView;
    private bool _failing;

    /// <summary>Open pages.</summary>
    public int SubscriberCount => _subscribers.Count;

    /// <summary>
    /// Starts delivering to a new page. Decisions after <paramref name="afterSequence"/> (the newest one the
    /// page already has) are delivered, even those recorded before the feed's next read.
    /// </summary>
    public Subscription Subscribe(long afterSequence)
    {
        var subscription = new Subscription(this, afterSequence);
        lock (_cursorLock)
        {
            _cursor = _cursor is { } c ? Math.Min(c, afterSequence) : afterSequence;
            _subscribers[subscription] = 0;
        }

        return subscription;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.LiveInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (_subscribers.IsEmpty)
                {
                    lock (_cursorLock)
                    {
                        _cursor = null;
                    }

                    _lastView = null;
                    continue;
                }

                await PollAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One read of the mesh, broadcast to every page.</summary>
    internal async Task PollAsync(CancellationToken cancellationToken)
    {
        try
        {
            var overview = await reader.GetOverviewAsync(0, cancellationToken);
            var catalog = await reader.GetCatalogAsync(settings.LiveInterval, cancellationToken);
            long cursor;
            lock (_cursorLock)
            {
                if (_cursor is not { } c)
                {
                    c = overview.LastSequence;
                }
                else if (c > overview.LastSequence)
                {
                    // The monitor restarted (its silo died) and numbers its decisions from 1 again.
                    c = 0;
                    foreach (var subscription in _subscribers.Keys)
                    {
                        subscription.Restart();
                    }
                }

                _cursor = cursor = c;
            }

            if (overview.LastSequence > cursor)
            {
                var decisions = await reader.GetDecisionsAfterAsync(cursor, 200, cancellationToken);
                lock (_cursorLock)
                {
                    foreach (var decision in decisions)
                    {
                        var message = new LiveMessage("decision", JsonSerializer.Serialize(decision, MoeMeshJson.Compact), decision.Sequence);
                        foreach (var subscription in _subscribers.Keys)
                        {
                            subscription.Deliver(message);
                        }
                    }

                    if (decisions.Count > 0)
                    {
                        _cursor = Math.Max(_cursor ?? 0, decisions[^1].Sequence);
                    }
                }
            }

            var view = JsonSerializer.Serialize(MeshViewBuilder.Build(catalog, overview, time.GetUtcNow()) with { At = default }, MoeMeshJson.Compact);
            if (_failing || view != _lastView)
            {
                _lastView = view;
                Broadcast(new LiveMessage("mesh", view));
            }

            if (_failing)
            {
                _failing = false;
                Broadcast(new LiveMessage("status", JsonSerializer.Serialize(new LiveStatus(true, "connected to the mesh"), MoeMeshJson.Compact)));
                LogRecovered(logger);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (!_failing)
            {
                _failing = true;
                LogPollFailed(logger, ex);
                Broadcast(new LiveMessage("status", JsonSerializer.Serialize(new LiveStatus(false, $"the mesh is not answering: {ex.Message}"), MoeMeshJson.Compact)));
            }
        }
    }

    private void Broadcast(LiveMessage message)
    {
        foreach (var subscription in _subscribers.Keys)
        {
            subscription.Deliver(message);
        }
    }

    private void Remove(Subscription subscription) => _subscribers.TryRemove(subscription, out _);

    /// <summary>One open page's queue of messages.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly LiveFeed _feed;
        private readonly Channel<LiveMessage> _channel = Channel.CreateBounded<LiveMessage>(new BoundedChannelOptions(SubscriberBuffer)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

        private long _delivered;

        internal Subscription(LiveFeed feed, long afterSequence)
        {
            _feed = feed;
            _delivered = afterSequence;
        }

        public ChannelReader<LiveMessage> Reader => _channel.Reader;

        /// <summary>Queues <paramref name="message"/>; a decision is queued once, and only if the page does not have it yet.</summary>
        internal void Deliver(LiveMessage message)
        {
            if (message.Sequence > 0)
            {
                if (message.Sequence <= Volatile.Read(ref _delivered))
                {
                    return;
                }

                Volatile.Write(ref _delivered, message.Sequence);
            }

            _channel.Writer.TryWrite(message);
        }

        internal void Restart() => Volatile.Write(ref _delivered, 0);

        public void Dispose()
        {
            _feed.Remove(this);
            _channel.Writer.TryComplete();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dashboard's live feed cannot read the mesh; pages show it as disconnected until it answers again")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The dashboard's live feed reaches the mesh again")]
    private static partial void LogRecovered(ILogger logger);
}

/// <summary>Whether the dashboard reaches the mesh.</summary>
public sealed record LiveStatus(bool Connected, string Message);
