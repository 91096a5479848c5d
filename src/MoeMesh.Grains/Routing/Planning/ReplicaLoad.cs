namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// Runs this router has in flight on one replica, with the last changes of that count and when they
/// happened: a replica's report says how many sequences it ran when it was made (its own clock's
/// <c>ReportedAt</c>, read against this router's, so boxes are assumed to keep the same time), and
/// the history says how many of those were this router's then. Thread-safe.
/// </summary>
internal sealed class ReplicaLoad
{
    /// <summary>Changes kept: the replicas report at the end of every run, so a report is rarely older than a few changes.</summary>
    private const int Kept = 64;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly HostLoad _host;
    private readonly long[] _at = new long[Kept];
    private readonly int[] _count = new int[Kept];
    private long _changes;
    private int _running;

    public ReplicaLoad(TimeProvider time, HostLoad host)
    {
        _time = time;
        _host = host;
        host.ReplicaAdded();
    }

    /// <summary>Runs in flight now.</summary>
    public int Running => Math.Max(0, Volatile.Read(ref _running));

    /// <summary>Counts a run in; returns the runs already in flight.</summary>
    public int Enter()
    {
        lock (_gate)
        {
            if (++_running == 1)
            {
                _host.EngineBusy();
            }

            Record();
            return _running - 1;
        }
    }

    public void Leave()
    {
        lock (_gate)
        {
            if (--_running == 0)
            {
                _host.EngineIdle();
            }

            Record();
        }
    }

    /// <summary>
    /// Runs this router had in flight at <paramref name="at"/>. Before the first change that is none;
    /// before the oldest change kept it is not known, and the most kept is taken, so a report that
    /// old never counts this router's runs twice.
    /// </summary>
    public int RunningAt(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        lock (_gate)
        {
            var kept = (int)Math.Min(_changes, Kept);
            var most = 0;
            for (var back = 1; back <= kept; back++)
            {
                var slot = (int)((_changes - back) % Kept);
                if (_at[slot] <= ticks)
                {
                    return _count[slot];
                }

                most = Math.Max(most, _count[slot]);
            }

            return _changes <= Kept ? 0 : most;
        }
    }

    private void Record()
    {
        var slot = (int)(_changes % Kept);
        _at[slot] = _time.GetUtcNow().UtcTicks;
        _count[slot] = Math.Max(0, _running);
        _changes++;
    }
}
