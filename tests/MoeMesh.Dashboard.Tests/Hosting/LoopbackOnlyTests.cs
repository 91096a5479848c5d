using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using MoeMesh.Dashboard.Tests.TestDoubles;

namespace MoeMesh.Dashboard.Tests.Hosting;

/// <summary>A dashboard without an API key binds to the loopback interface only, and says so.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class LoopbackOnlyTests(DashboardMeshFixture mesh)
{
    [Fact]
    public async Task Without_a_key_the_server_listens_on_loopback_only_and_reports_it()
    {
        await using var app = await DashboardMeshFixture.StartDashboardAsync(mesh.Cluster.Client, o => o.Urls = ["http://0.0.0.0:0"]);
        var url = Assert.Single(MoeMeshDashboardExtensions.DashboardUrls(app.Services));
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var info = JsonNode.Parse(await http.GetStringAsync("api/info"))!;
        using var models = await http.GetAsync("v1/models");

        Assert.False((bool)info["keyRequired"]!);
        Assert.True((bool)info["loopbackOnly"]!);
        Assert.All(info["listen"]!.AsArray(), l => Assert.StartsWith("http://127.0.0.1:", (string?)l, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        await app.StopAsync();
    }
}
