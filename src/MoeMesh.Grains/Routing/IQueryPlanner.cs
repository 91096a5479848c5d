using MoeMesh.Catalog;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing;

/// <summary>Decides which experts run a query and predicts what that costs.</summary>
public interface IQueryPlanner
{
    /// <summary>The plan for <paramref name="query"/> given the mesh as <paramref name="catalog"/> describes it.</summary>
    ValueTask<QueryPlan> PlanAsync(Query query, CatalogSnapshot catalog, CancellationToken cancellationToken = default);
}
