namespace MoeMesh.Grains.Residency;

/// <summary>
/// The generations running on this silo's engines, of all replicas: each run is counted from its
/// start to its end and told the most that ran at once while it did, so a replica can tell a run
/// that had the host to itself from one slowed by other sequences on its cores. Thread-safe.
/// </summary>
public sealed class SiloGenerations
{
    private readonly Lock _gate = new();
    private readonly HashSet<Run> _open = [];

    /// <summary>Generations running now.</summary>
    public int Running
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>Counts one generation until the returned run is disposed.</summary>
    public Run Begin()
    {
        var run = new Run(this);
        lock (_gate)
        {
            _open.Add(run);
            foreach (var open in _open)
            {
                open.Peak = Math.Max(open.Peak, _open.Count);
            }
        }

        return run;
    }

    private void End(Run run)
    {
        lock (_gate)
        {
            _open.Remove(run);
        }
    }

    /// <summary>One counted generation.</summary>
    public sealed class Run(SiloGenerations owner) : IDisposable
    {
        private int _ended;

        // The most generations that ran on the silo at once while this one did, itself included; under the owner's lock.
        internal int Peak { get; set; }

        /// <summary>The most other generations that ran on the silo at once while this one did.</summary>
        public int OthersMet
        {
            get
            {
                lock (owner._gate)
                {
                    return Math.Max(0, Peak - 1);
                }
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                owner.End(this);
            }
        }
    }
}
