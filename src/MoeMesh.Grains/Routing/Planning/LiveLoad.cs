using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// What this router knows is running where: per silo (its own runs in flight and what the replicas
/// last reported), per host (every silo on one box shares its cores) and per replica (sequences
/// one engine decodes together). Read on every prediction, so host names are parsed once per silo
/// and nothing here allocates after a silo's first run. Thread-safe.
/// </summary>
internal sealed class LiveLoad
{
    private readonly ConcurrentDictionary<string, SiloLoad> _load = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Expert, string Silo), StrongBox<int>> _replicaRuns = new();
    private readonly ConcurrentDictionary<string, string> _hostOfSilo = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SiloLoad[]> _hostLoads = new(StringComparer.Ordinal);
    private readonly Lock _loadGate = new();

    /// <summary>Sequences running on <paramref name="silo"/> now, as far as this router knows.</summary>
    public int RunningOn(string silo)
        => _load.TryGetValue(silo, out var load) ? load.Running : 0;

    /// <summary>Sequences running on every silo of <paramref name="silo"/>'s host now.</summary>
    public int RunningOnHost(string silo)
    {
        if (!_hostLoads.TryGetValue(Host(silo), out var loads))
        {
            return 0;
        }

        var running = 0;
        foreach (var load in loads)
        {
            running += load.Running;
        }

        return running;
    }

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
            var host = Host(silo);
            _hostLoads[host] = _hostLoads.TryGetValue(host, out var others) ? [.. others, load] : [load];
            _load[silo] = load;
            return load;
        }
    }

    /// <summary>The count of runs in flight on <paramref name="expertId"/>'s replica on <paramref name="silo"/>.</summary>
    public StrongBox<int> Replica(string expertId, string silo) => _replicaRuns.GetOrAdd((expertId, silo), _ => new StrongBox<int>());

    /// <summary>Runs in flight on <paramref name="expertId"/>'s replica on <paramref name="silo"/>.</summary>
    public int RunningOnReplica(string expertId, string silo)
        => _replicaRuns.TryGetValue((expertId, silo), out var count) ? Math.Max(0, Volatile.Read(ref count.Value)) : 0;

    /// <summary>Other busy engines of <paramref name="silo"/>'s host, or the host's sequences besides <paramref name="same"/> when no replica is tracked there.</summary>
    public int Elsewhere(string expertId, string silo, int same)
    {
        var host = Host(silo);
        var tracked = false;
        var engines = 0;
        foreach (var replica in _replicaRuns)
        {
            if (Host(replica.Key.Silo) != host)
            {
                continue;
            }

            tracked = true;
            if (Volatile.Read(ref replica.Value.Value) > 0 && (replica.Key.Expert != expertId || replica.Key.Silo != silo))
            {
                engines++;
            }
        }

        return tracked ? engines : Math.Max(0, RunningOnHost(silo) - same);
    }
}
