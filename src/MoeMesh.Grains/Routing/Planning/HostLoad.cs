namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// What one host (every silo on one box shares its cores) is running: its silos' loads, and how many
/// of its engines have runs of this router in flight, counted as each replica's run count goes from
/// 0 to 1 and back, so a prediction reads it without walking the replicas. Thread-safe.
/// </summary>
internal sealed class HostLoad
{
    private SiloLoad[] _silos = [];
    private int _busyEngines;
    private int _replicas;

    /// <summary>Engines of the host running at least one run of this router.</summary>
    public int BusyEngines => Math.Max(0, Volatile.Read(ref _busyEngines));

    /// <summary>True once this router has tracked a run on any replica of the host.</summary>
    public bool TracksReplicas => Volatile.Read(ref _replicas) > 0;

    /// <summary>Sequences running on every silo of the host, as far as this router knows.</summary>
    public int Running
    {
        get
        {
            var running = 0;
            foreach (var load in Volatile.Read(ref _silos))
            {
                running += load.Running;
            }

            return running;
        }
    }

    /// <summary>Lists a silo of the host; the caller serialises additions.</summary>
    public void Add(SiloLoad silo) => Volatile.Write(ref _silos, [.. Volatile.Read(ref _silos), silo]);

    public void ReplicaAdded() => Interlocked.Increment(ref _replicas);

    public void EngineBusy() => Interlocked.Increment(ref _busyEngines);

    public void EngineIdle() => Interlocked.Decrement(ref _busyEngines);
}
