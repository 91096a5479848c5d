using MoeMesh.Catalog;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// The live candidates of the latest catalog snapshot: the router's cached snapshot serves many
/// queries, and all queries that do not name experts have the same candidates, so they are worked
/// out once per snapshot rather than once per query.
/// </summary>
internal sealed class LiveCandidateCache
{
    private Entry? _last;

    /// <summary>The same as <see cref="LiveCandidates.Find"/>.</summary>
    public IReadOnlyList<LiveCandidate> Find(Query query, CatalogSnapshot catalog)
    {
        if (query.Options.Experts.Count > 0)
        {
            return LiveCandidates.Find(query, catalog);
        }

        if (Volatile.Read(ref _last) is { } last && ReferenceEquals(last.Catalog, catalog))
        {
            return last.Candidates;
        }

        var found = LiveCandidates.Find(query, catalog);
        Volatile.Write(ref _last, new Entry(catalog, found));
        return found;
    }

    private sealed record Entry(CatalogSnapshot Catalog, IReadOnlyList<LiveCandidate> Candidates);
}
