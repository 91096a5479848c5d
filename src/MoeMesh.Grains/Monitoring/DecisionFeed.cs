using Microsoft.Extensions.Logging;
using MoeMesh.Monitoring;

namespace MoeMesh.Grains.Monitoring;

/// <summary>
/// A router's finished decisions on their way to the mesh monitor, sent in batches: one message
/// per <see cref="FlushDelay"/> (or per <see cref="MaxBatch"/> decisions) instead of one per query,
/// so the monitor's silo and the router's own do not handle a message for every query. The buffer
/// never holds more than <see cref="MaxBatch"/> decisions (a full batch goes at once); a batch that
/// cannot be sent is logged with its size, never dropped unnoticed; <see cref="Dispose"/> sends
/// what is left.
/// </summary>
internal sealed partial class DecisionFeed : IDisposable
{
    /// <summary>How long the first decision of a batch waits for others before the batch goes.</summary>
    internal static readonly TimeSpan FlushDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The most decisions one batch carries; a full batch goes without waiting.</summary>
    internal const int MaxBatch = 256;

    private readonly Action<IReadOnlyList<DecisionRecord>> _send;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private List<DecisionRecord> _pending = [];
    private bool _disposed;

    /// <param name="time">The clock the flush delay runs on.</param>
    /// <param name="send">Sends one batch (a one-way call to the monitor); it must not block.</param>
    /// <param name="logger">Where a batch that could not be sent is reported.</param>
    public DecisionFeed(TimeProvider time, Action<IReadOnlyList<DecisionRecord>> send, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(time);
        _send = send ?? throw new ArgumentNullException(nameof(send));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _timer = time.CreateTimer(static state => ((DecisionFeed)state!).Flush(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Decisions waiting for the next batch.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Queues <paramref name="decision"/> for the next batch; after <see cref="Dispose"/> it is sent alone at once.</summary>
    public void Add(DecisionRecord decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        List<DecisionRecord>? full = null;
        lock (_gate)
        {
            if (_disposed)
            {
                full = [decision];
            }
            else
            {
                _pending.Add(decision);
                if (_pending.Count >= MaxBatch)
                {
                    full = TakeLocked();
                }
                else if (_pending.Count == 1)
                {
                    _timer.Change(FlushDelay, Timeout.InfiniteTimeSpan);
                }
            }
        }

        if (full is not null)
        {
            Send(full);
        }
    }

    /// <summary>Sends the decisions waiting now, if any.</summary>
    public void Flush()
    {
        List<DecisionRecord>? batch;
        lock (_gate)
        {
            batch = _pending.Count == 0 ? null : TakeLocked();
        }

        if (batch is not null)
        {
            Send(batch);
        }
    }

    /// <summary>Stops the timer and sends what is left.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _timer.Dispose();
        Flush();
    }

    private List<DecisionRecord> TakeLocked()
    {
        var batch = _pending;
        _pending = [];
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return batch;
    }

    private void Send(List<DecisionRecord> batch)
    {
        try
        {
            _send(batch);
        }
        catch (Exception ex)
        {
            LogBatchLost(_logger, ex, batch.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Count} routing decisions to the mesh monitor; the dashboard's feed misses them")]
    private static partial void LogBatchLost(ILogger logger, Exception exception, int count);
}
