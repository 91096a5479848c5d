using Microsoft.Extensions.Logging;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Grains.Residency;

/// <summary>A model held in this silo's memory.</summary>
public sealed record ResidentModel(ExpertReplica Replica, long Bytes, bool Pinned, int ActiveRequests, DateTimeOffset LastUsed, bool Loading);

/// <summary>
/// The silo's model memory, treated as a cache: a model must reserve its bytes before it loads;
/// when memory is short, the least recently used idle models that are not pinned are unloaded
/// to make room. Busy and pinned models are never unloaded.
/// </summary>
public sealed partial class ExpertResidency(ModelMemoryBudget budget, TimeProvider time, ILogger<ExpertResidency> logger)
{
    /// <summary>How long a load waits for busy models to become idle before giving up.</summary>
    internal TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly Dictionary<ExpertReplica, Entry> _entries = [];
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _loads;
    private long _evictions;

    /// <summary>The generations running on this silo's engines, counted by the replicas' calibrations.</summary>
    public SiloGenerations Generations { get; } = new();

    public long BudgetBytes => budget.Bytes;

    public long UsedBytes
    {
        get
        {
            lock (_gate)
            {
                return _entries.Values.Sum(e => e.Bytes);
            }
        }
    }

    public long Loads => Interlocked.Read(ref _loads);

    public long Evictions => Interlocked.Read(ref _evictions);

    public IReadOnlyList<ResidentModel> Snapshot()
    {
        lock (_gate)
        {
            return _entries.Values
                .Select(e => new ResidentModel(e.Replica, e.Bytes, e.Pinned, e.Active, e.LastUsed, e.Loading))
                .OrderBy(m => m.Replica.GrainKey, StringComparer.Ordinal)
                .ToList();
        }
    }

    public bool IsResident(string expertId)
    {
        lock (_gate)
        {
            return _entries.Values.Any(e => e.Replica.ExpertId == expertId && !e.Loading);
        }
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/> for <paramref name="replica"/>, unloading least recently used
    /// idle models if needed. <paramref name="owner"/> is the activation holding the model, which is
    /// deactivated when the model is evicted. Throws <see cref="ExpertUnavailableException"/> when the
    /// model cannot fit.
    /// </summary>
    public async Task ReserveAsync(ExpertReplica replica, long bytes, bool pinned, IGrainContext? owner, CancellationToken cancellationToken = default)
    {
        if (bytes > budget.Bytes)
        {
            throw new ExpertUnavailableException(
                $"Expert '{replica.ExpertId}' needs {bytes} bytes; this silo lets models use only {budget.Bytes}.");
        }

        var started = time.GetTimestamp();
        while (true)
        {
            List<Entry> victims;
            Task released;
            lock (_gate)
            {
                var used = _entries.Values.Sum(e => e.Bytes);
                if (used + bytes <= budget.Bytes)
                {
                    _entries[replica] = new Entry(replica, bytes, pinned, owner, time.GetUtcNow()) { Loading = true };
                    return;
                }

                var shortfall = used + bytes - budget.Bytes;
                victims = [];
                foreach (var candidate in _entries.Values
                             .Where(e => e.Active == 0 && !e.Pinned && !e.Loading && !e.Evicting)
                             .OrderBy(e => e.LastUsed))
                {
                    if (shortfall <= 0)
                    {
                        break;
                    }

                    victims.Add(candidate);
                    candidate.Evicting = true;
                    shortfall -= candidate.Bytes;
                }

                if (shortfall > 0 && !_entries.Values.Any(e => e.Evicting || e.Active > 0 || e.Loading))
                {
                    foreach (var victim in victims)
                    {
                        victim.Evicting = false;
                    }

                    var held = string.Join(", ", _entries.Values.Select(e => $"{e.Replica} ({e.Bytes} bytes{(e.Pinned ? ", pinned" : "")})"));
                    throw new ExpertUnavailableException(
                        $"Expert '{replica.ExpertId}' needs {bytes} bytes but pinned models hold the rest of this silo's {budget.Bytes}-byte budget: {held}.");
                }

                released = _released.Task;
            }

            Evict(victims, replica);
            var remaining = MaxWait - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw new ExpertUnavailableException(
                    $"Expert '{replica.ExpertId}' could not get {bytes} bytes within {MaxWait.TotalSeconds:0} s: the silo's models stayed busy.");
            }

            try
            {
                await released.WaitAsync(remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1), time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Re-check: a busy model may have become idle without any release.
            }
        }
    }

    /// <summary>Unloads the chosen idle models to make room for <paramref name="replica"/>.</summary>
    private void Evict(List<Entry> victims, ExpertReplica replica)
    {
        foreach (var victim in victims)
        {
            LogEvicting(logger, victim.Replica.GrainKey, victim.Bytes, replica.GrainKey);
            Interlocked.Increment(ref _evictions);
            Telemetry.MoeMeshInstrumentation.ModelEvictions.Add(1, new KeyValuePair<string, object?>("expert", victim.Replica.ExpertId));

            // Deactivating the activation disposes its engine, which releases the reservation.
            victim.Owner?.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, $"unloaded to make room for {replica}"));
            if (victim.Owner is null)
            {
                Release(victim.Replica);
            }
        }
    }

    /// <summary>Records that the model finished loading and how much it really holds.</summary>
    public void Loaded(ExpertReplica replica, long residentBytes)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(replica, out var entry))
            {
                entry.Loading = false;
                if (residentBytes > 0)
                {
                    entry.Bytes = residentBytes;
                }
            }
        }

        Interlocked.Increment(ref _loads);
    }

    /// <summary>Frees the model's memory (unloaded, or its load failed).</summary>
    public void Release(ExpertReplica replica)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (!_entries.Remove(replica))
            {
                return;
            }

            signal = _released;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    public void BeginUse(ExpertReplica replica) => Update(replica, +1);

    public void EndUse(ExpertReplica replica) => Update(replica, -1);

    private void Update(ExpertReplica replica, int delta)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(replica, out var entry))
            {
                entry.Active = Math.Max(0, entry.Active + delta);
                entry.LastUsed = time.GetUtcNow();
            }
        }
    }

    private sealed class Entry(ExpertReplica replica, long bytes, bool pinned, IGrainContext? owner, DateTimeOffset lastUsed)
    {
        public ExpertReplica Replica { get; } = replica;

        public IGrainContext? Owner { get; } = owner;

        public long Bytes { get; set; } = bytes;

        public bool Pinned { get; } = pinned;

        public int Active { get; set; }

        public DateTimeOffset LastUsed { get; set; } = lastUsed;

        public bool Loading { get; set; }

        public bool Evicting { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloading idle expert {Replica} ({Bytes} bytes) to make room for {Incoming}")]
    private static partial void LogEvicting(ILogger logger, string replica, long bytes, string incoming);
}
