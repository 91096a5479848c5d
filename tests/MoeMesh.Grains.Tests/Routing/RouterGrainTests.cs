using MoeMesh.Client;
using MoeMesh.Errors;
using MoeMesh.Generation;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Queries;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Tests.Routing;

[Collection(TwoSiloMeshCollection.Name)]
public sealed class RouterGrainTests(TwoSiloMeshFixture mesh)
{
    [Fact]
    public async Task Query_runs_end_to_end_router_to_expert_to_client()
    {
        var events = new List<QueryEvent>();
        await foreach (var e in mesh.Client.StreamAsync("Solve this algebra problem: 2x + 3 = 7", TwoSiloMeshFixture.SmallExperts()))
        {
            events.Add(e);
        }

        var plan = Assert.IsType<PlanChosen>(events[0]).Plan;
        Assert.Equal("math-small", Assert.Single(plan.Steps).ExpertId);
        Assert.Contains("algebra", plan.Skills);
        var tokens = events.OfType<TokenProduced>().Where(t => t.IsAnswer).Select(t => t.Text);
        Assert.Equal("math-small says: the answer is (B) because reasons", string.Concat(tokens));

        var result = Assert.IsType<QueryCompleted>(events[^1]).Result;
        var run = Assert.Single(result.Runs);
        Assert.Equal(RunOutcome.Completed, run.Outcome);
        Assert.NotNull(run.Silo);
        Assert.NotNull(run.DeviceName);
        Assert.Equal(8, run.Metrics!.GeneratedTokens);
        Assert.True(run.EnergyJoules >= 0);
        Assert.Equal("model", run.EnergyMeter.ToWireName());
        Assert.True(result.LatencyMs > 0);
        Assert.True(result.BudgetMet);
    }

    [Fact]
    public async Task Several_experts_vote_on_a_multiple_choice_question()
    {
        var query = new Query
        {
            Messages = [ChatTurn.User("Which is a prime number?")],
            Choices = ["4", "7", "9"],
            Options = new QueryOptions { Experts = ["general-small", "math-small"], K = 2 },
        };

        var result = await mesh.Client.AskAsync(query);

        Assert.Equal(2, result.Runs.Count);
        Assert.All(result.Runs, r => Assert.Equal("B", r.Choice));
        Assert.Equal("B", result.Choice);
        Assert.Equal("agreement", result.Combination.ToWireName());
        Assert.Contains(mesh.Probe.Requests, r => r.Request.Messages[^1].Content.Contains("B. 7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Impossible_budget_yields_an_explicit_infeasible_plan()
    {
        var result = await mesh.Client.AskAsync("Tell me some history", new QueryOptions { LatencyBudgetMs = 1e-6 });

        Assert.False(result.Plan.Feasible);
        Assert.Equal("latency", result.Plan.BindingBudget?.ToWireName());
        Assert.Single(result.Plan.Steps);
        Assert.Contains(result.Notes, n => n.Contains("latency budget", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_options_are_rejected_with_every_problem_listed()
    {
        var error = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            mesh.Client.AskAsync("hi", new QueryOptions { K = 0, EnergyBudgetJoules = -1 }));

        Assert.Contains("k must be between 1", error.Message);
        Assert.Contains("energy budget must be a positive", error.Message);
    }

    [Fact]
    public async Task Unknown_expert_is_rejected_by_the_router()
    {
        var query = Query.FromPrompt("hi", new QueryOptions { Experts = ["no-such-expert"] });

        var error = await Assert.ThrowsAsync<InvalidRequestException>(() => mesh.Cluster.Client.GetGrain<IRouterGrain>(0).RunAsync(query).ToListAsync().AsTask());

        Assert.Contains("'no-such-expert'", error.Message);
    }

    [Fact]
    public async Task A_slow_query_stream_carries_heartbeats_that_the_sdk_does_not_pass_on()
    {
        // 8 words at 400 ms: about 3.2 s, past the router's 2 s heartbeat interval.
        mesh.Probe.WordDelay = TimeSpan.FromMilliseconds(400);
        try
        {
            var query = Query.FromPrompt("write code for a programming puzzle", new QueryOptions { Experts = ["gpu-code"] });
            var raw = await mesh.Cluster.Client.GetGrain<IRouterGrain>(7).RunAsync(query).ToListAsync();
            var viaSdk = await mesh.Client.StreamAsync(query with { Id = query.Id + "-sdk" }).ToListAsync();

            Assert.Contains(raw, e => e is QueryHeartbeat);
            Assert.IsType<QueryCompleted>(raw[^1]);
            Assert.DoesNotContain(viaSdk, e => e is QueryHeartbeat);
            Assert.IsType<QueryCompleted>(viaSdk[^1]);
        }
        finally
        {
            mesh.Probe.WordDelay = TimeSpan.FromMilliseconds(1);
        }
    }

    [Fact]
    public async Task Cancelling_the_stream_stops_generation_on_the_expert()
    {
        // After two words the expert falls silent for far longer than the test waits: only the
        // cancellation can stop it.
        mesh.Probe.Stopped.Clear();
        mesh.Probe.StallNextRuns(runs: 1, afterWords: 2, atMost: TimeSpan.FromSeconds(90));
        try
        {
            using var cts = new CancellationTokenSource();
            var query = Query.FromPrompt("write code for a programming puzzle", new QueryOptions { Experts = ["gpu-code"] });
            var seenTokens = 0;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var e in mesh.Client.StreamAsync(query, cts.Token))
                {
                    if (e is TokenProduced && ++seenTokens == 1)
                    {
                        await cts.CancelAsync();
                    }
                }
            });

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!mesh.Probe.Stopped.Any(s => s.Expert == "gpu-code") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Contains(mesh.Probe.Stopped, s => s.Expert == "gpu-code");
        }
        finally
        {
            mesh.Probe.StallNextRuns(runs: 0, afterWords: 0, atMost: TimeSpan.Zero);
        }
    }
}
