using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using MoeMesh.Dashboard.Tests.TestDoubles;
using Xunit.Abstractions;

namespace MoeMesh.Dashboard.Tests.Moe;

/// <summary>
/// The token-path view over a real tiny MoE model on two silos: <c>/api/moe</c> reflects each generation's
/// routing counts, hop latency, bytes per token and shard placement, and <c>/moe</c> draws them in Chromium.
/// </summary>
public sealed class MoeDashboardTests(MoeDashboardFixture mesh, ITestOutputHelper output) : IClassFixture<MoeDashboardFixture>
{
    [Fact]
    public async Task The_json_endpoint_counts_every_routed_slot_of_a_generation_and_shows_where_the_shards_live()
    {
        using var http = mesh.CreateClient();
        var before = await ModelAsync(http);

        var prompt = MoeDashboardFixture.Prompt(seed: 3, length: 9);
        var result = await mesh.GenerateAsync("api", prompt, maxTokens: 6);
        var after = await ModelAsync(http);

        var options = MoeDashboardFixture.Model;
        var tokens = prompt.Length + result.Tokens.Length - 1;
        Assert.Equal("Tiny MoE", after.GetProperty("displayName").GetString());
        Assert.Equal(options.Layers, after.GetProperty("layers").GetInt32());
        Assert.Equal(options.Experts, after.GetProperty("experts").GetInt32());
        Assert.Equal(Generations(before) + 1, Generations(after));
        Assert.Equal(RoutedSlots(before) + (tokens * options.TopK * options.Layers), RoutedSlots(after));
        Assert.All(after.GetProperty("routing").EnumerateArray(), row => Assert.Equal(options.Experts, row.GetArrayLength()));
        Assert.Equal(after.GetProperty("routing").EnumerateArray().SelectMany(r => r.EnumerateArray()).Max(c => c.GetInt64()), after.GetProperty("maxCount").GetInt64());
        Assert.Equal(result.HopP50Us, after.GetProperty("hopP50Us").GetDouble(), 3);
        Assert.Equal(result.HopP99Us, after.GetProperty("hopP99Us").GetDouble(), 3);
        Assert.True(after.GetProperty("hopP50Us").GetDouble() > 0);
        Assert.True(after.GetProperty("bytesPerToken").GetDouble() > options.Hidden * 4, "every token crosses at least one hop as f32 activations");

        // Both silos hold shards of every layer, with the experts of a layer each held once.
        var shards = after.GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(2, shards.Select(s => s.GetProperty("silo").GetString()).Distinct().Count());
        foreach (var layer in shards.GroupBy(s => s.GetProperty("layer").GetInt32()))
        {
            Assert.Equal(options.Experts, layer.Sum(s => s.GetProperty("expertCount").GetInt32()));
        }

        // The list holds the same model.
        using var all = JsonDocument.Parse(await http.GetStringAsync("api/moe"));
        Assert.Equal(["tiny-moe"], all.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("model").GetString()!).ToArray());
    }

    [Fact]
    public async Task An_unknown_model_is_404_and_no_key_is_401()
    {
        using var http = mesh.CreateClient();
        using var unknown = await http.GetAsync("api/moe/no-such-model");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync());
        Assert.Equal("model_not_found", error.RootElement.GetProperty("error").GetProperty("code").GetString());

        using var anonymous = mesh.CreateClient(authorized: false);
        using var refused = await anonymous.GetAsync("api/moe");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task The_page_draws_the_heat_map_the_hop_latency_and_the_placement()
    {
        await mesh.GenerateAsync("page", MoeDashboardFixture.Prompt(seed: 8, length: 12), maxTokens: 8);
        using var http = mesh.CreateClient();
        var model = await ModelAsync(http);

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.NewPageAsync(1480, 900);
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        // The key signs the browser in and sends it on to the page it asked for.
        await page.GotoAsync(new Uri(mesh.BaseAddress, $"moe?key={DashboardMeshFixture.ApiKey}").ToString());
        Assert.Equal(new Uri(mesh.BaseAddress, "moe").ToString(), page.Url);

        var card = page.Locator("[data-testid=moe-model][data-model='tiny-moe']");
        await Assertions.Expect(card).ToBeVisibleAsync();
        var options = MoeDashboardFixture.Model;
        var cells = card.Locator("[data-testid=heatmap-cell]");
        await Assertions.Expect(cells).ToHaveCountAsync(options.Layers * options.Experts);
        await Assertions.Expect(page.Locator("[data-testid=live-status]")).ToContainTextAsync("live");

        // The cells carry the counts the JSON endpoint gave (or later ones, if another test generated meanwhile).
        var counts = await cells.EvaluateAllAsync<long[]>("cells => cells.map(c => Number(c.dataset.count))");
        Assert.True(counts.Sum() >= model.GetProperty("routing").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(c => c.GetInt64()));
        await Assertions.Expect(card.Locator("[data-testid=moe-hop-p50]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d+)? (µs|ms)$"));
        await Assertions.Expect(card.Locator("[data-testid=moe-hop-p99]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d+)? (µs|ms)$"));
        await Assertions.Expect(card.Locator("[data-testid=moe-bytes-per-token]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d+)? (B|KiB|MiB)$"));
        await Assertions.Expect(card.Locator("[data-testid=moe-deviations]")).ToHaveTextAsync("exact");
        Assert.Equal(2, (await card.Locator("[data-testid=moe-shard-row]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.silo)")).Distinct().Count());

        // The hottest cell is drawn in the scale's last colour; a cell no token chose, in the first.
        var fills = await cells.EvaluateAllAsync<string[]>("cells => cells.map(c => c.getAttribute('fill'))");
        Assert.Equal("rgb(167,139,250)", fills[Array.IndexOf(counts, counts.Max())]);
        if (counts.Contains(0))
        {
            Assert.Equal("rgb(22,33,58)", fills[Array.IndexOf(counts, 0L)]);
        }

        Assert.All(requests, url => Assert.StartsWith(mesh.BaseAddress.GetLeftPart(UriPartial.Authority), url, StringComparison.Ordinal));
        var screenshot = await HeadlessChromium.ScreenshotAsync(page, "dashboard-moe.png");
        output.WriteLine($"token-path page screenshot: {screenshot}");
    }

    private static async Task<JsonElement> ModelAsync(HttpClient http)
    {
        using var response = await http.GetAsync("api/moe/tiny-moe");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("models")[0].Clone();
    }

    private static long Generations(JsonElement model) => model.GetProperty("generations").GetInt64();

    private static long RoutedSlots(JsonElement model)
        => model.GetProperty("routing").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(c => c.GetInt64());
}
