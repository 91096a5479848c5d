using MoeMesh.Catalog;
using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>Asks the mesh questions and reads its state.</summary>
public interface IMoeMeshClient
{
    /// <summary>Runs <paramref name="query"/> and returns the answer with its plan and accounting.</summary>
    Task<QueryResult> AskAsync(Query query, CancellationToken cancellationToken = default);

    /// <summary>Streams <paramref name="query"/>'s plan, tokens, runs and result as they happen. Cancelling stops the experts.</summary>
    IAsyncEnumerable<QueryEvent> StreamAsync(Query query, CancellationToken cancellationToken = default);

    /// <summary>The mesh's silos, experts and replicas.</summary>
    Task<CatalogSnapshot> GetStatusAsync(CancellationToken cancellationToken = default);
}
