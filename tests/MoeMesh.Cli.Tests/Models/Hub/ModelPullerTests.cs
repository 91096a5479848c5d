using MoeMesh.Cli.Models.Hub;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Cli.Tests.Models.Hub;

/// <summary>Pulls from a local server that answers like the hub: redirect, hash headers, Range, 401, 404.</summary>
public sealed class ModelPullerTests : IAsyncLifetime
{
    private const string Repo = "org/tiny-GGUF";
    private const string File = "tiny-q4_k_m.gguf";
    private FakeHub _hub = null!;
    private string _cache = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _cache = Directory.CreateTempSubdirectory("moemesh-cache-").FullName;
        _http = HubClient.CreateHttpClient(TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _hub.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    [Fact]
    public async Task Pull_follows_the_redirect_stores_the_file_with_the_published_sha256_and_a_manifest_the_silo_loads()
    {
        var sha = _hub.AddFile(Repo, File, HubTestModels.TinyGguf);

        var result = await Puller().PullAsync(Request(), TextWriter.Null, default);

        Assert.True(result.Downloaded);
        Assert.True(result.Verified);
        Assert.Equal(sha, result.Sha256);
        Assert.Equal(FakeHub.Commit, result.Commit);
        Assert.Equal(Path.Combine(_cache, "org", "tiny-GGUF", File), result.Path);
        Assert.Equal(sha, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.IO.File.ReadAllBytes(result.Path))));
        var manifest = ExpertManifestLoader.LoadFile(result.ManifestPath);
        Assert.Equal("tiny-q4_k_m", manifest.Id);
        Assert.Equal(result.Path, manifest.ModelPath);
        Assert.Equal("F32", manifest.Quantization);
        Assert.True(manifest.ParameterCount > 10_000);
        Assert.False(System.IO.File.Exists(result.Path + ".part"));
        Assert.Contains(_hub.Requests, r => r is { Server: "hub", Method: "HEAD" } && r.Path.EndsWith("/resolve/main/" + File, StringComparison.Ordinal));
        Assert.Contains(_hub.Requests, r => r is { Server: "cdn", Method: "GET", Range: null });
    }

    [Fact]
    public async Task An_interrupted_download_keeps_its_part_file_and_the_next_pull_resumes_it_with_a_range_request()
    {
        var content = HubTestModels.TinyGguf;
        var sha = _hub.AddFile(Repo, File, content);
        var cut = content.Length / 3;
        _hub.BreakNextDownloadAfter = cut;

        var broken = await Assert.ThrowsAsync<HubException>(() => Puller(maxAttempts: 1).PullAsync(Request(), TextWriter.Null, default));

        Assert.Equal(HubFailure.Interrupted, broken.Failure);
        Assert.Contains("run the same command again to resume", broken.Message);
        var part = Path.Combine(_cache, "org", "tiny-GGUF", File + ".part");
        var kept = new FileInfo(part).Length;
        Assert.InRange(kept, 1, cut);

        var result = await Puller(maxAttempts: 1).PullAsync(Request(), TextWriter.Null, default);

        Assert.Equal(kept, result.ResumedFrom);
        Assert.Equal(sha, result.Sha256);
        Assert.Equal(content, System.IO.File.ReadAllBytes(result.Path));
        Assert.Equal($"bytes={kept}-", _hub.Requests.Last(r => r.Server == "cdn").Range);
        Assert.False(System.IO.File.Exists(part));
    }

    [Fact]
    public async Task A_connection_that_breaks_mid_download_is_resumed_within_the_same_pull()
    {
        var content = HubTestModels.TinyGguf;
        var sha = _hub.AddFile(Repo, File, content);
        _hub.BreakNextDownloadAfter = content.Length / 2;

        var result = await Puller(maxAttempts: 3).PullAsync(Request(), TextWriter.Null, default);

        Assert.Equal(sha, result.Sha256);
        var downloads = _hub.Requests.Where(r => r.Server == "cdn").ToList();
        Assert.Equal(2, downloads.Count);
        Assert.Null(downloads[0].Range);
        Assert.StartsWith("bytes=", downloads[1].Range);
        Assert.NotEqual("bytes=0-", downloads[1].Range);
    }

    [Fact]
    public async Task A_hash_mismatch_removes_the_download_and_says_so()
    {
        _hub.AddFile(Repo, File, HubTestModels.TinyGguf, publishedSha256: new string('a', 64));

        var error = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(Request(), TextWriter.Null, default));

        Assert.Equal(HubFailure.HashMismatch, error.Failure);
        Assert.Contains("does not match the hub's " + new string('a', 64), error.Message);
        Assert.Contains("removed", error.Message);
        Assert.Equal(1, error.ExitCode);
        Assert.Empty(Directory.EnumerateFiles(_cache, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_gated_model_without_a_token_is_a_clear_401_and_the_token_goes_to_the_hub_but_not_the_cdn()
    {
        _hub.AddFile("meta/gated-GGUF", File, HubTestModels.TinyGguf, gated: true, token: "hf_secret");

        var denied = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(Request("meta/gated-GGUF"), TextWriter.Null, default));

        Assert.Equal(HubFailure.Denied, denied.Failure);
        Assert.Contains("gated or private", denied.Message);
        Assert.Contains("set HF_TOKEN", denied.Message);
        Assert.Contains("/meta/gated-GGUF", denied.Message);

        var result = await Puller(token: "hf_secret").PullAsync(Request("meta/gated-GGUF"), TextWriter.Null, default);

        Assert.True(result.Verified);
        Assert.Contains(_hub.Requests, r => r is { Server: "hub", Authorization: "Bearer hf_secret" });
        Assert.All(_hub.Requests.Where(r => r.Server == "cdn"), r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task A_missing_file_is_a_clear_404()
    {
        _hub.AddFile(Repo, File, HubTestModels.TinyGguf);

        var error = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(Request(file: "nope-Q4_K_M.gguf"), TextWriter.Null, default));

        Assert.Equal(HubFailure.NotFound, error.Failure);
        Assert.Contains("not found (404)", error.Message);
        Assert.Contains("nope-Q4_K_M.gguf", error.Message);
        Assert.Equal(2, error.ExitCode);
    }

    [Fact]
    public async Task Quant_picks_the_matching_file_from_the_repository_listing()
    {
        _hub.AddFile(Repo, "Tiny-Q8_0.gguf", HubTestModels.TinyGguf);
        _hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", HubTestModels.TinyGguf);

        var result = await Puller().PullAsync(new PullRequest(HubRepository.Parse(Repo)) { Quant = "q8_0" }, TextWriter.Null, default);

        Assert.Equal("Tiny-Q8_0.gguf", result.File);
        Assert.Contains(_hub.Requests, r => r.Path == $"/api/models/{Repo}/revision/main");
    }

    [Fact]
    public async Task A_second_pull_of_the_same_version_downloads_nothing()
    {
        _hub.AddFile(Repo, File, HubTestModels.TinyGguf);
        await Puller().PullAsync(Request(), TextWriter.Null, default);

        var again = await Puller().PullAsync(Request(), TextWriter.Null, default);

        Assert.False(again.Downloaded);
        Assert.Single(_hub.Requests, r => r.Server == "cdn");
    }

    [Fact]
    public async Task An_unreachable_hub_is_offline()
    {
        var settings = new HubSettings { Endpoint = new Uri("http://127.0.0.1:1"), ModelsDirectory = _cache };
        var puller = new ModelPuller(new HubClient(_http, settings), new ModelCache(_cache));

        var error = await Assert.ThrowsAsync<HubException>(() => puller.PullAsync(Request(), TextWriter.Null, default));

        Assert.Equal(HubFailure.Offline, error.Failure);
        Assert.StartsWith("offline: cannot reach the model hub at http://127.0.0.1:1", error.Message);
        Assert.Equal(3, error.ExitCode);
    }

    [Fact]
    public async Task A_renamed_repository_is_followed_within_the_hub_before_the_published_headers_are_read()
    {
        var sha = _hub.AddFile("org/new-name", File, HubTestModels.TinyGguf);
        _hub.Rename("org/old-name", "org/new-name");

        var result = await Puller().PullAsync(Request("org/old-name"), TextWriter.Null, default);

        Assert.True(result.Verified);
        Assert.Equal(sha, result.Sha256);
        Assert.Contains(_hub.Requests, r => r is { Server: "hub", Method: "HEAD" } && r.Path.StartsWith("/org/new-name/resolve/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_partial_file_of_another_version_is_not_resumed()
    {
        var content = HubTestModels.TinyGguf;
        var sha = _hub.AddFile(Repo, File, content);
        var target = Path.Combine(_cache, "org", "tiny-GGUF", File);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await System.IO.File.WriteAllBytesAsync(target + ".part", new byte[1000]);
        await System.IO.File.WriteAllTextAsync(target + ".part.version", new string('b', 64) + ":" + content.Length);

        var result = await Puller().PullAsync(Request(), TextWriter.Null, default);

        Assert.Equal(0, result.ResumedFrom);
        Assert.Equal(sha, result.Sha256);
        Assert.Null(_hub.Requests.Single(r => r.Server == "cdn").Range);
    }

    [Fact]
    public async Task Hf_hub_offline_touches_no_network()
    {
        var settings = new HubSettings { Endpoint = _hub.Endpoint, ModelsDirectory = _cache, Offline = true };

        var error = await Assert.ThrowsAsync<HubException>(() => new ModelPuller(new HubClient(_http, settings), new ModelCache(_cache)).PullAsync(Request(), TextWriter.Null, default));

        Assert.Equal(HubFailure.Offline, error.Failure);
        Assert.Contains("HF_HUB_OFFLINE", error.Message);
        Assert.Empty(_hub.Requests);
    }

    private ModelPuller Puller(int maxAttempts = 3, string? token = null)
    {
        var settings = new HubSettings { Endpoint = _hub.Endpoint, ModelsDirectory = _cache, Token = token };
        return new ModelPuller(new HubClient(_http, settings), new ModelCache(_cache), maxAttempts: maxAttempts);
    }

    private static PullRequest Request(string repo = Repo, string file = File) => new(HubRepository.Parse(repo)) { File = file };
}
