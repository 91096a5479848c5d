using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>
/// One running query as its parts share it: the query, its plan and start, the event stream, the
/// catalog as last seen, silos suspected dead and the notes for the result. Thread-safe: responders
/// run in parallel.
/// </summary>
internal sealed class QueryState(Query query, QueryPlan plan, long started, CatalogSnapshot catalog, ChannelWriter<QueryEvent> events)
{
    private static readonly ConditionalWeakTable<IReadOnlyList<ExpertManifest>, Dictionary<string, ExpertManifest>> ById = [];

    private readonly Lock _gate = new();
    private readonly List<string> _notes = [];
    private readonly HashSet<string> _suspectSilos = new(StringComparer.Ordinal);
    private CatalogSnapshot _catalog = catalog;

    public Query Query { get; } = query;

    public QueryPlan Plan { get; } = plan;

    /// <summary>When the query arrived (a <see cref="TimeProvider"/> timestamp): its latency counts from here.</summary>
    public long Started { get; } = started;

    public ChannelWriter<QueryEvent> Events { get; } = events;

    /// <summary>The experts of the catalog the plan was made from, by id (one table per snapshot: every query of it asks).</summary>
    public IReadOnlyDictionary<string, ExpertManifest> Manifests { get; } = ById.GetValue(catalog.Experts, static experts => experts.ToDictionary(e => e.Id, StringComparer.Ordinal));

    /// <summary>The catalog as last seen: the plan's, or a fresher one fetched after a failure.</summary>
    public CatalogSnapshot Catalog
    {
        get => Volatile.Read(ref _catalog);
        set => Volatile.Write(ref _catalog, value);
    }

    public void AddNote(string note)
    {
        lock (_gate)
        {
            _notes.Add(note);
        }
    }

    /// <summary>The notes so far, with <paramref name="first"/> before them when given.</summary>
    public IReadOnlyList<string> Notes(string? first = null)
    {
        lock (_gate)
        {
            return first is null ? [.. _notes] : [first, .. _notes];
        }
    }

    public void SuspectSilo(string silo)
    {
        lock (_gate)
        {
            _suspectSilos.Add(silo);
        }
    }

    public IReadOnlySet<string> SuspectSilos()
    {
        lock (_gate)
        {
            return new HashSet<string>(_suspectSilos, StringComparer.Ordinal);
        }
    }
}
