using System.Net;
using System.Text.Json.Nodes;
using MoeMesh.Dashboard.Tests.Api;
using MoeMesh.Dashboard.Tests.TestDoubles;

namespace MoeMesh.Dashboard.Tests.Live;

/// <summary>The page's live stream and data endpoints over the two-silo mesh.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class LiveFeedTests(DashboardMeshFixture mesh)
{
    [Fact]
    public async Task The_live_stream_sends_the_mesh_then_each_new_decision_as_it_happens()
    {
        using var http = mesh.CreateClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await http.GetAsync("api/live", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var events = ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(timeout.Token), timeout.Token).GetAsyncEnumerator(timeout.Token);

        Assert.True(await events.MoveNextAsync());
        Assert.Equal("mesh", events.Current.Event);
        var view = JsonNode.Parse(events.Current.Data)!;
        Assert.Equal(2, view["silos"]!.AsArray().Count);
        Assert.Contains(view["experts"]!.AsArray(), e => (string?)e!["id"] == "math-small");

        var question = $"live feed check {Guid.NewGuid():N} about algebra";
        using var ask = await http.PostAsync("v1/chat/completions", ChatCompletionsTests.Json($$"""{"model": "moemesh", "messages": [{"role": "user", "content": "{{question}}"}], "budget_ms": 30000}"""), timeout.Token);
        Assert.Equal(HttpStatusCode.OK, ask.StatusCode);
        var queryId = ((string?)JsonNode.Parse(await ask.Content.ReadAsStringAsync(timeout.Token))!["moemesh"]!["query_id"])!;

        JsonNode? decision = null;
        while (decision is null && await events.MoveNextAsync())
        {
            if (events.Current.Event == "decision" && (string?)JsonNode.Parse(events.Current.Data)!["queryId"] == queryId)
            {
                decision = JsonNode.Parse(events.Current.Data);
            }
        }

        Assert.NotNull(decision);
        Assert.Equal(question, (string?)decision["excerpt"]);
        Assert.Equal("math-small", (string?)decision["runs"]![0]!["expertId"]);
        Assert.False(string.IsNullOrEmpty((string?)decision["runs"]![0]!["deviceName"]));
        Assert.True((bool)decision["budgetMet"]!);
        Assert.Equal(30000, (double)decision["latencyBudgetMs"]!);
    }

    [Fact]
    public async Task The_json_endpoints_serve_the_overview_the_catalog_and_the_joined_view()
    {
        using var http = mesh.CreateClient();

        var overview = JsonNode.Parse(await http.GetStringAsync("api/overview"))!;
        var catalog = JsonNode.Parse(await http.GetStringAsync("api/catalog"))!;
        var view = JsonNode.Parse(await http.GetStringAsync("api/mesh"))!;

        Assert.Equal(2, overview["silos"]!.AsArray().Count);
        Assert.Equal(["Jetson AGX Orin 64GB", "RTX 4090 desktop"], catalog["silos"]!.AsArray().Select(s => (string?)s!["device"]!["name"]).Order());
        Assert.All(view["silos"]!.AsArray(), s => Assert.Equal("active", (string?)s!["state"]));
        Assert.All(view["silos"]!.AsArray(), s => Assert.Equal("model", (string?)s!["meterKind"]));
        Assert.Equal(3, view["experts"]!.AsArray().Count);
    }
}
