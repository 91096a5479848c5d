using MoeMesh.Client;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Tests.Routing;

[Collection(TwoSiloMeshCollection.Name)]
public sealed class LatencyBudgetTests(TwoSiloMeshFixture mesh)
{
    [Fact]
    public async Task The_latency_budget_travels_with_the_generation_request()
    {
        const double Budget = 120_000;
        var question = $"Solve this algebra problem with a budget: {Guid.NewGuid():N}";

        var result = await mesh.Client.AskAsync(question, TwoSiloMeshFixture.SmallExperts(new QueryOptions { LatencyBudgetMs = Budget }));

        Assert.True(result.BudgetMet);
        var sent = mesh.Probe.Requests.Where(r => r.Request.Messages.Any(m => m.Content.Contains(question, StringComparison.Ordinal))).Select(r => r.Request).ToList();
        var request = Assert.Single(sent);
        Assert.NotNull(request.TimeBudgetMs);
        Assert.InRange(request.TimeBudgetMs.Value, 1, Budget);
    }

    [Fact]
    public async Task Without_a_budget_the_engine_gets_no_deadline()
    {
        var question = $"Solve this algebra problem without a budget: {Guid.NewGuid():N}";

        await mesh.Client.AskAsync(question, TwoSiloMeshFixture.SmallExperts());

        var request = Assert.Single(mesh.Probe.Requests, r => r.Request.Messages.Any(m => m.Content.Contains(question, StringComparison.Ordinal)));
        Assert.Null(request.Request.TimeBudgetMs);
    }
}
