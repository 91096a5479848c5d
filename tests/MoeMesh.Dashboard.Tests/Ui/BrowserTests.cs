using System.Net;
using Microsoft.Playwright;
using MoeMesh.Dashboard.Tests.Api;
using MoeMesh.Dashboard.Tests.TestDoubles;
using Xunit.Abstractions;

namespace MoeMesh.Dashboard.Tests.Ui;

/// <summary>The dashboard in headless Chromium: the cluster renders, and a query sent to the API appears in the live feed without a reload.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class BrowserTests(DashboardMeshFixture mesh, ITestOutputHelper output)
{
    [Fact]
    public async Task The_page_shows_the_silos_and_experts_and_a_new_decision_arrives_live()
    {
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.NewPageAsync(1480, 1100);
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        var navigations = 0;
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
            {
                navigations++;
            }
        };

        // The key in the address signs the browser in and is dropped from the address.
        await page.GotoAsync(new Uri(mesh.BaseAddress, $"?key={DashboardMeshFixture.ApiKey}").ToString());
        Assert.Equal(mesh.BaseAddress.ToString(), page.Url);

        var silos = page.Locator("[data-testid=silo-card]");
        await Assertions.Expect(silos).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=silos]")).ToContainTextAsync("Jetson AGX Orin 64GB");
        await Assertions.Expect(page.Locator("[data-testid=silos]")).ToContainTextAsync("RTX 4090 desktop");
        await Assertions.Expect(page.Locator("[data-testid=silo-state]").First).ToHaveTextAsync("active");
        await Assertions.Expect(page.Locator("[data-testid=cancelled-running]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=cancelled-running]").First).ToHaveTextAsync("cancelled, still running: 0");
        foreach (var expert in new[] { "general-small", "math-small", "code-small" })
        {
            await Assertions.Expect(page.Locator($"[data-testid=expert-row][data-expert='{expert}']")).ToBeVisibleAsync();
        }

        await Assertions.Expect(page.Locator("[data-testid=live-status]")).ToContainTextAsync("live");
        await page.EvaluateAsync("() => { window.__sameDocument = 'still here'; }");
        var navigationsBefore = navigations;

        // A few queries through the API, the last one the test looks for.
        using var http = mesh.CreateClient();
        foreach (var warmUp in new[] { "Write a short poem about the sea", "Explain recursion in python code", "Solve the equation 3x + 5 = 20 with algebra" })
        {
            using var response = await http.PostAsync("v1/chat/completions", ChatCompletionsTests.Json($$"""{"model": "moemesh", "messages": [{"role": "user", "content": "{{warmUp}}"}], "budget_ms": 60000}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var symbolic = await http.PostAsync("v1/chat/completions", ChatCompletionsTests.Json("""{"model": "moemesh-symbolic", "k": 2, "messages": [{"role": "user", "content": "Compare the history of algebra with the history of writing"}], "budget_ms": 10000, "budget_j": 500}""")))
        {
            Assert.Equal(HttpStatusCode.OK, symbolic.StatusCode);
        }

        var question = $"Browser check {Guid.NewGuid().ToString("N")[..8]}: what is the derivative of x^2 in calculus?";
        using (var asked = await http.PostAsync("v1/chat/completions", ChatCompletionsTests.Json($$"""{"model": "moemesh", "messages": [{"role": "user", "content": "{{question}}"}], "budget_ms": 60000}""")))
        {
            Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        }

        var decision = page.Locator("[data-testid=decision]", new PageLocatorOptions { HasText = question });
        await Assertions.Expect(decision).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
        await Assertions.Expect(decision.Locator("[data-testid=decision-excerpt]")).ToHaveTextAsync(question);
        await Assertions.Expect(decision).ToContainTextAsync("budget met");
        Assert.Equal("still here", await page.EvaluateAsync<string>("() => window.__sameDocument"));
        Assert.Equal(navigationsBefore, navigations);

        // The page's own box asks through the API with the session cookie and streams the answer.
        await page.Locator("#ask-prompt").FillAsync("Please summarise the history of Rome");
        await page.Locator("#ask-budget-ms").FillAsync("60000");
        await page.Locator("#ask-send").ClickAsync();
        await Assertions.Expect(page.Locator("#ask-answer")).ToHaveTextAsync("general-small says: the answer is (B) because reasons");
        await Assertions.Expect(page.Locator("#ask-summary")).ToContainTextAsync("budget met");
        await Assertions.Expect(page.Locator("[data-testid=decision]", new PageLocatorOptions { HasText = "Please summarise the history of Rome" })).ToBeVisibleAsync();

        // Everything the page loaded came from the dashboard itself.
        Assert.All(requests, url => Assert.StartsWith(mesh.BaseAddress.GetLeftPart(UriPartial.Authority), url, StringComparison.Ordinal));

        await page.Locator("#feed .decision").First.ScrollIntoViewIfNeededAsync();
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await Task.Delay(1800); // let the arrival highlight fade before the picture
        var screenshot = await HeadlessChromium.ScreenshotAsync(page, "dashboard.png");
        output.WriteLine($"dashboard screenshot: {screenshot}");
    }
}
