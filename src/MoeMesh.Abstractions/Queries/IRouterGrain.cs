namespace MoeMesh.Queries;

/// <summary>
/// Plans and runs queries: picks experts under the caller's budgets, runs them, combines their
/// answers and streams everything back. Stateless; one or more activations per silo.
/// </summary>
public interface IRouterGrain : IGrainWithIntegerKey
{
    /// <summary>Runs <paramref name="query"/> and streams its plan, tokens, runs and result.</summary>
    IAsyncEnumerable<QueryEvent> RunAsync(Query query, CancellationToken cancellationToken = default);
}
