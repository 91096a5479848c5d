using System.Runtime.CompilerServices;
using MoeMesh.Catalog;
using MoeMesh.Queries;

namespace MoeMesh.Client.Tests;

/// <summary>A test double that answers every query with fixed tokens and records what it was asked.</summary>
internal sealed class FakeMeshClient : IMoeMeshClient
{
    public List<Query> Queries { get; } = [];

    public Task<QueryResult> AskAsync(Query query, CancellationToken cancellationToken = default)
    {
        Queries.Add(query);
        return Task.FromResult(Result(query));
    }

    public async IAsyncEnumerable<QueryEvent> StreamAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Queries.Add(query);
        var result = Result(query);
        yield return new PlanChosen(result.Plan);
        yield return new TokenProduced("draft", "a", IsAnswer: false);
        foreach (var piece in new[] { "forty", "-", "two" })
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new TokenProduced(piece, "a", IsAnswer: true);
        }

        yield return new QueryCompleted(result);
    }

    public Task<CatalogSnapshot> GetStatusAsync(CancellationToken cancellationToken = default) => Task.FromResult(new CatalogSnapshot());

    private static QueryResult Result(Query query) => new()
    {
        QueryId = query.Id,
        Answer = "forty-two",
        Plan = new QueryPlan { QueryId = query.Id },
        Runs =
        [
            new ExpertRun { ExpertId = "a", Metrics = new Generation.GenerationMetrics { PromptTokens = 5, GeneratedTokens = 3, FinishReason = Generation.FinishReason.MaxTokens } },
        ],
    };
}
