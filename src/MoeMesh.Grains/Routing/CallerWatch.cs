namespace MoeMesh.Grains.Routing;

/// <summary>
/// Notices a caller that stopped reading a query's stream without cancelling it: its process was
/// killed or its connection dropped. A live caller asks for the next event as soon as it has the
/// last one (the SDK drops heartbeats itself), so an event left unclaimed past the limit means the
/// caller is gone; the query is then cancelled so its experts stop. Heartbeats make sure an event is
/// waiting for a gone caller within one interval, however silent the experts are.
/// </summary>
internal sealed class CallerWatch : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _limit;
    private readonly CancellationTokenSource _cancel;
    private readonly Action<TimeSpan> _onGone;
    private readonly ITimer? _timer;
    private readonly Lock _gate = new();
    private long _handedAt;
    private bool _waiting;

    public CallerWatch(TimeProvider time, TimeSpan limit, CancellationToken callerToken, Action<TimeSpan> onGone)
    {
        _time = time;
        _limit = limit;
        _onGone = onGone;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        if (limit > TimeSpan.Zero)
        {
            var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, limit.Ticks / 5));
            _timer = time.CreateTimer(static s => ((CallerWatch)s!).Check(), this, period, period);
        }
    }

    /// <summary>Cancelled when the caller cancels or is gone.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>An event was handed to the caller; it has not asked for the next yet.</summary>
    public void Handed()
    {
        lock (_gate)
        {
            _handedAt = _time.GetTimestamp();
            _waiting = true;
        }
    }

    /// <summary>The caller asked for the next event.</summary>
    public void Pulled()
    {
        lock (_gate)
        {
            _waiting = false;
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _cancel.Dispose();
    }

    private void Check()
    {
        TimeSpan silent;
        lock (_gate)
        {
            if (!_waiting || _cancel.IsCancellationRequested)
            {
                return;
            }

            silent = _time.GetElapsedTime(_handedAt);
        }

        if (silent < _limit)
        {
            return;
        }

        _onGone(silent);
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The query ended meanwhile.
        }
    }
}
