using System.Net;
using MoeMesh.Dashboard.Tests.TestDoubles;

namespace MoeMesh.Dashboard.Tests.Ui;

/// <summary>Both pages load the shared DOM helpers, served from the dashboard itself, before their own script.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class PageScriptsTests(DashboardMeshFixture mesh)
{
    [Theory]
    [InlineData("/", "/assets/dashboard.js")]
    [InlineData("/moe", "/assets/moe.js")]
    public async Task A_page_loads_the_shared_helpers_before_its_own_script(string path, string script)
    {
        using var http = mesh.CreateClient();

        var html = await http.GetStringAsync(path.TrimStart('/'));

        var shared = html.IndexOf("<script src=\"/assets/dom.js\" defer></script>", StringComparison.Ordinal);
        var own = html.IndexOf($"<script src=\"{script}\" defer></script>", StringComparison.Ordinal);
        Assert.True(shared >= 0, $"{path} does not load /assets/dom.js");
        Assert.True(own > shared, $"{path} loads {script} before /assets/dom.js");
    }

    [Fact]
    public async Task The_shared_helpers_are_served_as_javascript_without_a_key()
    {
        using var http = mesh.CreateClient(authorized: false);

        using var response = await http.GetAsync("assets/dom.js");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("window.MoeMeshDom", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
