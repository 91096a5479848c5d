using System.Collections.Concurrent;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// What this router knows is running where: per silo (its own runs in flight and what the replicas
/// last reported of others' sequences), per host (every silo on one box shares its cores; its busy
/// engines are counted as they start and stop) and per replica (sequences one engine decodes
/// together). Read on every prediction, so host names are parsed once per silo and nothing here
/// walks the replicas or allocates after a silo's first run. Thread-safe.
/// </summary>
internal sealed class LiveLoad(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, SiloLoad> _load = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Expert, string Silo), ReplicaLoad> _replicas = new();
    private readonly ConcurrentDictionary<string, string> _hostOfSilo = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, HostLoad> _hosts = new(StringComparer.Ordinal);
    private readonly Lock _loadGate = new();

    /// <summary>Sequences running on <paramref name="silo"/> now, as far as this router knows.</summary>
    public int RunningOn(string silo)
        => _load.TryGetValue(silo, out var load) ? load.Running : 0;

    /// <summary>Sequences running on every silo of <paramref name="silo"/>'s host now.</summary>
    public int RunningOnHost(string silo)
        => _hosts.TryGetValue(Host(silo), out var host) ? host.Running : 0;

    /// <summary>The host part of a silo name ("10.0.0.5:11111@123" is on "10.0.0.5").</summary>
    public static string HostOf(string silo)
    {
        var at = silo.IndexOf('@', StringComparison.Ordinal);
        var address = at >= 0 ? silo.AsSpan(0, at) : silo.AsSpan();
        var colon = address.LastIndexOf(':');
        var host = colon > 0 ? address[..colon] : address;
        return host.Length == silo.Length ? silo : host.ToString();
    }

    /// <summary>The silo's host, parsed once per silo name (every prediction and run asks).</summary>
    public string Host(string silo)
        => _hostOfSilo.TryGetValue(silo, out var host) ? host : _hostOfSilo.GetOrAdd(silo, HostOf(silo));

    /// <summary>The silo's load record, created once and listed under its host.</summary>
    public SiloLoad Silo(string silo)
    {
        if (_load.TryGetValue(silo, out var known))
        {
            return known;
        }

        lock (_loadGate)
        {
            if (_load.TryGetValue(silo, out known))
            {
                return known;
            }

            var load = new SiloLoad();
            HostLoad(silo).Add(load);
            _load[silo] = load;
            return load;
        }
    }

    /// <summary>The runs in flight on <paramref name="expertId"/>'s replica on <paramref name="silo"/>, created once and counted under its host.</summary>
    public ReplicaLoad Replica(string expertId, string silo)
        => _replicas.TryGetValue((expertId, silo), out var known)
            ? known
            : _replicas.GetOrAdd((expertId, silo), static (key, self) => self.NewReplica(key.Silo), this);

    /// <summary>Runs in flight on <paramref name="expertId"/>'s replica on <paramref name="silo"/>.</summary>
    public int RunningOnReplica(string expertId, string silo)
        => _replicas.TryGetValue((expertId, silo), out var replica) ? replica.Running : 0;

    /// <summary>Runs this router had in flight on <paramref name="expertId"/>'s replica on <paramref name="silo"/> at <paramref name="at"/>.</summary>
    public int RunningOnReplicaAt(string expertId, string silo, DateTimeOffset at)
        => _replicas.TryGetValue((expertId, silo), out var replica) ? replica.RunningAt(at) : 0;

    /// <summary>Other busy engines of <paramref name="silo"/>'s host, or the host's sequences besides <paramref name="same"/> when no replica is tracked there.</summary>
    public int Elsewhere(string expertId, string silo, int same)
    {
        if (!_hosts.TryGetValue(Host(silo), out var host))
        {
            return 0;
        }

        if (!host.TracksReplicas)
        {
            return Math.Max(0, host.Running - same);
        }

        var own = RunningOnReplica(expertId, silo) > 0 ? 1 : 0;
        return Math.Max(0, host.BusyEngines - own);
    }

    private HostLoad HostLoad(string silo) => _hosts.GetOrAdd(Host(silo), static _ => new HostLoad());

    private ReplicaLoad NewReplica(string silo)
    {
        // A replica may be tracked before its silo: list the silo under the host first, under the gate.
        Silo(silo);
        return new ReplicaLoad(time, HostLoad(silo));
    }
}
