using MoeMesh.Cli.Mesh;
using MoeMesh.Cli.Tests.Models.Hub;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Cli.Tests.Mesh;

/// <summary>The demo's real panel: pulled when the hub answers, read from the cache after, skipped offline.</summary>
[Collection(MoeMeshHomeCollection.Name)]
public sealed class DemoPanelTests : IDisposable
{
    private readonly EnvironmentScope _environment = new();
    private readonly string _models = Directory.CreateTempSubdirectory("moemesh-models-").FullName;

    public DemoPanelTests() => _environment.Set("MOEMESH_MODELS_DIR", _models).Set("HF_HUB_OFFLINE", null).Set("HF_TOKEN", null);

    public void Dispose()
    {
        _environment.Dispose();
        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public async Task Offline_says_so_in_one_line_with_how_to_get_real_models_and_uses_the_synthesized_experts()
    {
        _environment.Set("HF_ENDPOINT", "http://127.0.0.1:1");
        using var progress = new StringWriter();

        var forced = await DemoPanel.ResolveAsync(offline: true, progress, default);
        var unreachable = await DemoPanel.ResolveAsync(offline: false, progress, default);

        Assert.Null(forced);
        Assert.Null(unreachable);
        var lines = progress.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("--offline: the demo runs on synthesized experts", lines[0]);
        Assert.StartsWith("the model hub at http://127.0.0.1:1 is unreachable, so the demo runs on synthesized experts", lines[1]);
        Assert.All(lines, line => Assert.Contains("moemesh models pull", line));
    }

    [Fact]
    public async Task A_malformed_hf_endpoint_is_one_line_and_the_synthesized_experts()
    {
        _environment.Set("HF_ENDPOINT", "ftp://mirror");
        using var progress = new StringWriter();

        Assert.Null(await DemoPanel.ResolveAsync(offline: false, progress, default));
        Assert.StartsWith("HF_ENDPOINT \"ftp://mirror\" is not an http(s) URL", progress.ToString());
    }

    [Fact]
    public async Task With_the_hub_in_reach_the_panel_is_pulled_once_and_then_read_from_the_cache()
    {
        await using var hub = await FakeHub.StartAsync();
        foreach (var model in DemoPanel.Models)
        {
            hub.AddFile(model.Repository, model.File, HubTestModels.TinyGguf);
        }

        _environment.Set("HF_ENDPOINT", hub.Endpoint.AbsoluteUri);
        var pulled = await DemoPanel.ResolveAsync(offline: false, TextWriter.Null, default);

        Assert.NotNull(pulled);
        var manifests = ExpertManifestLoader.Load(pulled);
        Assert.Equal(DemoPanel.Models.Select(m => m.ExpertId), manifests.Select(m => m.Id));
        Assert.Contains("math", manifests.Single(m => m.Id == "qwen2.5-math-1.5b-instruct").Skills);

        _environment.Set("HF_ENDPOINT", "http://127.0.0.1:1");
        using var progress = new StringWriter();
        var cached = await DemoPanel.ResolveAsync(offline: false, progress, default);
        var forced = await DemoPanel.ResolveAsync(offline: true, progress, default);

        Assert.Equal(pulled, cached);
        Assert.Contains("using the real demo panel from", progress.ToString());
        Assert.Null(forced);
    }
}
