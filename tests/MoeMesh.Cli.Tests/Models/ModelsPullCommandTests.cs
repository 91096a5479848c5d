using System.Security.Cryptography;
using System.Text.Json;
using MoeMesh.Cli.Tests.Models.Hub;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Cli.Tests.Models;

/// <summary><c>moemesh models pull/list/rm</c> against a local stand-in for the hub (HF_ENDPOINT).</summary>
[Collection(MoeMeshHomeCollection.Name)]
public sealed class ModelsPullCommandTests : IAsyncLifetime
{
    private readonly EnvironmentScope _environment = new();
    private FakeHub _hub = null!;
    private string _models = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _models = Directory.CreateTempSubdirectory("moemesh-models-").FullName;
        _environment.Set("HF_ENDPOINT", _hub.Endpoint.AbsoluteUri).Set("MOEMESH_MODELS_DIR", _models).Set("HF_TOKEN", null).Set("HF_HUB_OFFLINE", null);
    }

    public async Task DisposeAsync()
    {
        _environment.Dispose();
        await _hub.DisposeAsync();
        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public async Task Pull_stores_the_file_with_its_sha256_and_a_manifest_and_a_mesh_on_that_manifest_answers_through_it()
    {
        var sha = _hub.AddFile("org/name", "file.gguf", HubTestModels.TinyGguf);

        var (code, output, error) = await CliRunner.RunAsync("models", "pull", "org/name", "file.gguf", "--json");

        Assert.True(code == 0, $"exit {code}: {error}");
        using var json = JsonDocument.Parse(output);
        var result = json.RootElement;
        var path = result.GetProperty("path").GetString()!;
        Assert.Equal(Path.Combine(_models, "org", "name", "file.gguf"), path);
        Assert.Equal(sha, result.GetProperty("sha256").GetString());
        Assert.True(result.GetProperty("verified").GetBoolean());
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        Assert.Contains("file.gguf", error);
        Assert.Contains("100%", error);

        var manifestPath = result.GetProperty("manifestPath").GetString()!;
        var loaded = Assert.Single(ExpertManifestLoader.Load([manifestPath]));
        Assert.Equal("file", loaded.Id);

        var (askCode, answer, askError) = await CliRunner.RunAsync(
            "demo", "--experts", Path.GetDirectoryName(manifestPath)!, "--silos", "cpu-box", "--json",
            "--silo-port", "21411", "--gateway-port", "31411", "--max-tokens", "8", "--prompt", "Hello there");

        Assert.True(askCode == 0, $"exit {askCode}: {askError}");
        using var reply = JsonDocument.Parse(answer);
        var run = reply.RootElement.GetProperty("runs")[0];
        Assert.Equal("file", run.GetProperty("expertId").GetString());
        Assert.Equal("completed", run.GetProperty("outcome").GetString());
        Assert.Equal(8, run.GetProperty("metrics").GetProperty("generatedTokens").GetInt32());
        Assert.DoesNotContain("synthesized experts", askError);
    }

    [Fact]
    public async Task List_shows_pulled_models_and_rm_removes_them()
    {
        _hub.AddFile("org/name", "Model-Q4_K_M.gguf", HubTestModels.TinyGguf);
        var pull = await CliRunner.RunAsync("models", "pull", "org/name", "--quant", "Q4_K_M");
        Assert.True(pull.ExitCode == 0, pull.Error);
        Assert.Contains("org/name/Model-Q4_K_M.gguf: ", pull.Output);
        Assert.Contains(" MB, downloaded in ", pull.Output);
        Assert.Contains("(matches the hub)", pull.Output);
        Assert.Contains("expert 'model-q4_k_m'", pull.Output);

        var (code, output, _) = await CliRunner.RunAsync("models", "list", "--json");

        Assert.Equal(0, code);
        using (var json = JsonDocument.Parse(output))
        {
            var model = Assert.Single(json.RootElement.GetProperty("models").EnumerateArray());
            Assert.Equal("org/name/Model-Q4_K_M.gguf", model.GetProperty("name").GetString());
            Assert.Equal("model-q4_k_m", model.GetProperty("expertId").GetString());
            Assert.Equal("org/name", model.GetProperty("repository").GetString());
        }

        var table = await CliRunner.RunAsync("models", "list");
        Assert.Contains("org/name/Model-Q4_K_M.gguf", table.Output);

        var removed = await CliRunner.RunAsync("models", "rm", "org/name");
        Assert.Equal(0, removed.ExitCode);
        Assert.Contains("removed org/name/Model-Q4_K_M.gguf", removed.Output);
        Assert.Empty(Directory.EnumerateFiles(_models, "*", SearchOption.AllDirectories));

        var again = await CliRunner.RunAsync("models", "rm", "org/name");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("no model named \"org/name\"", again.Error);
    }

    [Fact]
    public async Task Pull_without_a_reachable_hub_says_offline_in_one_line_and_exits_3()
    {
        _environment.Set("HF_ENDPOINT", "http://127.0.0.1:1");

        var (code, output, error) = await CliRunner.RunAsync("models", "pull", "org/name", "file.gguf", "--json");

        Assert.Equal(3, code);
        Assert.Empty(output);
        Assert.StartsWith("moemesh models pull: offline: cannot reach the model hub at http://127.0.0.1:1", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Pull_of_a_gated_model_names_hf_token_and_bad_names_are_usage_errors()
    {
        _hub.AddFile("meta/gated", "file.gguf", HubTestModels.TinyGguf, gated: true, token: "hf_x");

        var gated = await CliRunner.RunAsync("models", "pull", "meta/gated", "file.gguf");
        var badRepo = await CliRunner.RunAsync("models", "pull", "not-a-repo");
        var badFile = await CliRunner.RunAsync("models", "pull", "org/name", "weights.bin");

        Assert.Equal(1, gated.ExitCode);
        Assert.Contains("HF_TOKEN", gated.Error);
        Assert.Equal(2, badRepo.ExitCode);
        Assert.Contains("organization/name", badRepo.Error);
        Assert.Equal(2, badFile.ExitCode);
        Assert.Contains("not a GGUF file", badFile.Error);
        Assert.Empty(Directory.EnumerateFiles(_models, "*", SearchOption.AllDirectories));
    }
}
