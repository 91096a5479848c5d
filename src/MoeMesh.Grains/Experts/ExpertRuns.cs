namespace MoeMesh.Grains.Experts;

/// <summary>
/// The runs of one expert replica by the caller's run id, so an explicit cancellation reaches a run
/// in any state (waiting for the model, prefill, decode, or not yet arrived). Orleans' own
/// cancellation of a streaming call is a one-shot signal to a request the callee must already
/// know; a cancellation that overtakes the run's first message would be lost, so it is kept here
/// for a while and the run is refused when it arrives.
/// </summary>
internal sealed class ExpertRuns(CancelledGenerations ledger, TimeProvider time)
{
    /// <summary>How long a cancellation waits for a run that has not arrived yet.</summary>
    internal static readonly TimeSpan TombstoneLifetime = TimeSpan.FromMinutes(2);

    private readonly CancelledGenerations _ledger = ledger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Run> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _cancelledEarly = new(StringComparer.Ordinal);

    private int _waiting;

    /// <summary>Runs waiting for the model to load.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Counts a run as waiting for the model until the returned scope ends.</summary>
    public WaitScope Wait()
    {
        Interlocked.Increment(ref _waiting);
        return new WaitScope(this);
    }

    /// <summary>Generations running now, cancelled or not.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _running.Count;
            }
        }
    }

    /// <summary>
    /// Starts tracking a run; its token is cancelled by <paramref name="callerToken"/> or by
    /// <see cref="Cancel"/>. A run cancelled before it arrived starts cancelled.
    /// </summary>
    public Run Begin(string? runId, CancellationToken callerToken)
    {
        var run = new Run(this, runId, callerToken);
        if (runId is null)
        {
            return run;
        }

        bool early;
        lock (_gate)
        {
            early = _cancelledEarly.Remove(runId);
            if (!early)
            {
                _running[runId] = run;
            }
        }

        if (early)
        {
            run.Cancel();
        }

        return run;
    }

    /// <summary>Cancels a run; returns whether it was running. An unknown run is remembered so it is refused on arrival.</summary>
    public bool Cancel(string runId)
    {
        Run? run;
        lock (_gate)
        {
            if (!_running.TryGetValue(runId, out run))
            {
                var now = time.GetTimestamp();
                foreach (var stale in _cancelledEarly.Where(e => time.GetElapsedTime(e.Value, now) > TombstoneLifetime).Select(e => e.Key).ToList())
                {
                    _cancelledEarly.Remove(stale);
                }

                _cancelledEarly[runId] = now;
                return false;
            }
        }

        run.Cancel();
        return true;
    }

    private void End(Run run)
    {
        if (run.Id is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_running.TryGetValue(run.Id, out var current) && ReferenceEquals(current, run))
            {
                _running.Remove(run.Id);
            }
        }
    }

    internal readonly struct WaitScope(ExpertRuns owner) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref owner._waiting);
    }

    /// <summary>One run: its cancellation, and its place in the silo's count of cancelled runs still going.</summary>
    internal sealed class Run : IDisposable
    {
        private readonly ExpertRuns _owner;
        private readonly CancellationTokenSource _cancel;
        private readonly CancellationTokenRegistration _counting;
        private int _state; // 0 running, 1 running after cancellation, 2 ended

        public Run(ExpertRuns owner, string? id, CancellationToken callerToken)
        {
            _owner = owner;
            Id = id;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(callerToken);

            // Counted before anything waiting on the run's token can resume and end it: callbacks run
            // last-registered first, so this one, on the caller's token, runs before the linked source's.
            _counting = callerToken.UnsafeRegister(static s => ((Run)s!).OnCancelled(), this);
        }

        public string? Id { get; }

        public CancellationToken Token => _cancel.Token;

        public void Cancel()
        {
            try
            {
                OnCancelled();
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run ended meanwhile.
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _state, 2) == 1)
            {
                _owner._ledger.Remove();
            }

            _counting.Dispose();
            _owner.End(this);
            _cancel.Dispose();
        }

        private void OnCancelled()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
            {
                _owner._ledger.Add();
            }
        }
    }
}
