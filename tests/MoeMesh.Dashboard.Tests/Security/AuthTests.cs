using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using MoeMesh.Dashboard.Tests.Api;
using MoeMesh.Dashboard.Tests.TestDoubles;

namespace MoeMesh.Dashboard.Tests.Security;

/// <summary>API keys guard the API, the dashboard's data, the page and the Orleans dashboard.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class AuthTests(DashboardMeshFixture mesh)
{
    private const string Completion = """{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}]}""";

    [Theory]
    [InlineData("v1/models")]
    [InlineData("api/mesh")]
    [InlineData("api/overview")]
    [InlineData("api/catalog")]
    [InlineData("api/live")]
    [InlineData("orleans/ClusterStats")]
    public async Task Requests_without_a_key_get_401_in_the_openai_error_shape(string path)
    {
        using var http = mesh.CreateClient(authorized: false);

        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ChatCompletionsTests.ErrorOf(response);
        Assert.Equal("invalid_api_key", (string?)error["code"]);
        Assert.Contains("Authorization: Bearer", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_completion_without_a_key_is_refused_before_reaching_the_mesh()
    {
        using var http = mesh.CreateClient(authorized: false);
        var before = mesh.Probe.Requests.Count;

        using var response = await http.PostAsync("v1/chat/completions", ChatCompletionsTests.Json(Completion));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before, mesh.Probe.Requests.Count);
    }

    [Theory]
    [InlineData("Bearer not-the-right-key-0000000")]
    [InlineData("Bearer test-key-0123456789abcdeX")]
    [InlineData("Bearer test-key-0123456789abcdef-and-more")]
    [InlineData("Basic dGVzdDp0ZXN0")]
    public async Task A_wrong_key_gets_401(string authorization)
    {
        using var http = mesh.CreateClient(authorized: false);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = ChatCompletionsTests.Json(Completion) };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await ChatCompletionsTests.ErrorOf(response);
        Assert.Equal("invalid_api_key", (string?)error["code"]);
        Assert.DoesNotContain("Missing", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_right_key_opens_the_api()
    {
        using var http = mesh.CreateClient();

        using var response = await http.GetAsync("v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_page_sends_a_browser_without_a_key_to_the_login_form()
    {
        using var http = mesh.CreateClient(authorized: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        var login = await http.GetStringAsync(response.Headers.Location);
        Assert.Contains("name=\"key\"", login, StringComparison.Ordinal);
        Assert.DoesNotContain(DashboardMeshFixture.ApiKey, login, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logging_in_with_the_key_sets_an_http_only_cookie_that_opens_the_page_and_the_data()
    {
        using var http = mesh.CreateClient(authorized: false);

        using var login = await http.GetAsync($"login?key={DashboardMeshFixture.ApiKey}&returnUrl=%2F");

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/", login.Headers.Location?.OriginalString);
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(DashboardMeshFixture.ApiKey, setCookie, StringComparison.Ordinal);
        var cookie = setCookie.Split(';')[0];

        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.Add("Cookie", cookie);
        using var pageResponse = await http.SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
        Assert.Contains("MoeMesh dashboard", await pageResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", pageResponse.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        using var data = new HttpRequestMessage(HttpMethod.Get, "api/info");
        data.Headers.Add("Cookie", cookie);
        using var dataResponse = await http.SendAsync(data);
        Assert.Equal(HttpStatusCode.OK, dataResponse.StatusCode);
        Assert.True((bool)JsonNode.Parse(await dataResponse.Content.ReadAsStringAsync())!["keyRequired"]!);
    }

    [Fact]
    public async Task A_wrong_key_at_the_login_sets_no_cookie()
    {
        using var http = mesh.CreateClient(authorized: false);

        using var response = await http.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = "guess-guess-guess-guess", ["returnUrl"] = "/" }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Contains("not valid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_session_cookie_is_refused()
    {
        using var http = mesh.CreateClient(authorized: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/mesh");
        request.Headers.Add("Cookie", "moemesh_session=" + DashboardMeshFixture.ApiKey);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_login_never_redirects_to_another_site()
    {
        using var http = mesh.CreateClient(authorized: false);

        using var response = await http.GetAsync($"login?key={DashboardMeshFixture.ApiKey}&returnUrl=%2F%2Fevil.example%2F");

        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_orleans_dashboard_is_mounted_under_orleans_behind_the_key()
    {
        using var http = mesh.CreateClient();

        using var page = await http.GetAsync("orleans/");
        using var stats = await http.GetAsync("orleans/ClusterStats");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.NotNull(JsonNode.Parse(await stats.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task The_styles_and_health_check_need_no_key()
    {
        using var http = mesh.CreateClient(authorized: false);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("assets/dashboard.css")).StatusCode);
        Assert.Equal("ok", await http.GetStringAsync("healthz"));
    }
}
