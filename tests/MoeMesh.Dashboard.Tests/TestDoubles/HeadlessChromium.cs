using Microsoft.Playwright;

namespace MoeMesh.Dashboard.Tests.TestDoubles;

/// <summary>The system's Chromium, headless, driven by Playwright: the browser the page tests share.</summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        Assert.True(File.Exists(ExecutablePath), $"Chromium is missing at {ExecutablePath}: install it with 'apt-get install -y chromium' (.ci/run and .ci/test install it when absent).");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public async Task<IPage> NewPageAsync(int width, int height)
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });

        // Headless Chromium shares two cores with the mesh and the other test hosts: wait generously.
        Assertions.SetDefaultExpectTimeout(30_000);
        page.SetDefaultTimeout(60_000);
        return page;
    }

    /// <summary>Saves a full-page picture of <paramref name="page"/> beside the tests as <paramref name="fileName"/> and returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", fileName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 10_000, $"the picture of the page at {path} is almost empty");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
