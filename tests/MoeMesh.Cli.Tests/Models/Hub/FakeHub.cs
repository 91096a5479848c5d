using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MoeMesh.Cli.Tests.Models.Hub;

/// <summary>
/// A stand-in for the Hugging Face hub on 127.0.0.1: <c>/api/models/{org}/{name}/revision/{rev}</c>
/// lists files; <c>/{org}/{name}/resolve/{rev}/{file}</c> answers like the hub does for LFS files
/// (a 302 to a separate CDN server with <c>X-Repo-Commit</c>, <c>X-Linked-Etag</c> = the SHA-256 and
/// <c>X-Linked-Size</c>; 401 for a gated repository without the token; 404 with <c>X-Error-Code</c>);
/// the CDN serves the bytes with HTTP Range support and can break a download off midway.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private readonly WebApplication _hub;
    private readonly WebApplication _cdn;
    private readonly ConcurrentDictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _renamed = new(StringComparer.Ordinal);

    private FakeHub(WebApplication hub, WebApplication cdn)
    {
        _hub = hub;
        _cdn = cdn;
    }

    /// <summary>The hub's base URL (what HF_ENDPOINT points at).</summary>
    public Uri Endpoint { get; private set; } = null!;

    public Uri CdnEndpoint { get; private set; } = null!;

    /// <summary>Every request either server saw, in order.</summary>
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    /// <summary>When set, the next CDN download sends this many bytes and then drops the connection.</summary>
    public long? BreakNextDownloadAfter { get; set; }

    public static async Task<FakeHub> StartAsync()
    {
        var fake = new FakeHub(Build(), Build());
        fake.MapHub();
        fake.MapCdn();
        await fake._hub.StartAsync();
        await fake._cdn.StartAsync();
        fake.Endpoint = new Uri(fake._hub.Urls.First());
        fake.CdnEndpoint = new Uri(fake._cdn.Urls.First());
        return fake;
    }

    /// <summary>Adds <paramref name="file"/> to <paramref name="repo"/>; <paramref name="publishedSha256"/> overrides the hash the hub claims.</summary>
    public string AddFile(string repo, string file, byte[] content, string? publishedSha256 = null, bool gated = false, string? token = null)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        _blobs[sha] = content;
        var entry = _repos.GetOrAdd(repo, _ => new Repo(gated, token));
        entry.Files[file] = (sha, publishedSha256 ?? sha, content.LongLength);
        return sha;
    }

    /// <summary>Answers requests for <paramref name="oldRepo"/> with a relative 307 to <paramref name="newRepo"/>, as the hub does for a renamed repository.</summary>
    public void Rename(string oldRepo, string newRepo) => _renamed[oldRepo] = newRepo;

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _cdn.DisposeAsync();
    }

    private static WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder.Build();
    }

    private void MapHub()
    {
        _hub.Use(async (context, next) =>
        {
            Requests.Enqueue(SeenRequest.Of("hub", context));
            await next(context);
        });
        _hub.MapGet("/api/models/{org}/{name}/revision/{revision}", (string org, string name, HttpContext context) =>
        {
            if (Denied($"{org}/{name}", context, out var repo) is { } denied)
            {
                return denied;
            }

            return Results.Json(new { id = $"{org}/{name}", sha = Commit, siblings = repo!.Files.Keys.Select(f => new { rfilename = f }) });
        });
        _hub.MapMethods("/{org}/{name}/resolve/{revision}/{**file}", ["GET", "HEAD"], (string org, string name, string revision, string file, HttpContext context) =>
        {
            if (_renamed.TryGetValue($"{org}/{name}", out var moved))
            {
                context.Response.Headers.Location = $"/{moved}/resolve/{revision}/{file}";
                return Results.StatusCode(307);
            }

            if (Denied($"{org}/{name}", context, out var repo) is { } denied)
            {
                return denied;
            }

            if (!repo!.Files.TryGetValue(file, out var entry))
            {
                context.Response.Headers["X-Error-Code"] = "EntryNotFound";
                context.Response.Headers["X-Error-Message"] = "Entry not found";
                return Results.StatusCode(404);
            }

            var headers = context.Response.Headers;
            headers["X-Repo-Commit"] = Commit;
            headers["X-Linked-Etag"] = $"\"{entry.Published}\"";
            headers["X-Linked-Size"] = entry.Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
            headers.ETag = "\"a1b2c3\"";
            return Results.Redirect(new Uri(CdnEndpoint, $"/blobs/{entry.Sha}?signature=x").AbsoluteUri);
        });
    }

    private IResult? Denied(string id, HttpContext context, out Repo? repo)
    {
        if (!_repos.TryGetValue(id, out repo))
        {
            // Like the hub: an unknown repository to an anonymous caller is a 401, to a signed-in one a 404.
            context.Response.Headers["X-Error-Code"] = "RepoNotFound";
            context.Response.Headers["X-Error-Message"] = "Repository not found";
            return Results.StatusCode(context.Request.Headers.Authorization.Count == 0 ? 401 : 404);
        }

        if (repo.Gated && context.Request.Headers.Authorization.ToString() != $"Bearer {repo.Token}")
        {
            context.Response.Headers["X-Error-Code"] = "GatedRepo";
            return Results.StatusCode(401);
        }

        return null;
    }

    private void MapCdn()
    {
        _cdn.Use(async (context, next) =>
        {
            Requests.Enqueue(SeenRequest.Of("cdn", context));
            await next(context);
        });
        _cdn.MapGet("/blobs/{sha}", async (string sha, HttpContext context) =>
        {
            if (!_blobs.TryGetValue(sha, out var content))
            {
                context.Response.StatusCode = 404;
                return;
            }

            var from = 0L;
            if (context.Request.Headers.Range.ToString() is { Length: > 0 } range)
            {
                from = long.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
                if (from >= content.Length)
                {
                    context.Response.StatusCode = 416;
                    return;
                }

                context.Response.StatusCode = 206;
                context.Response.Headers.ContentRange = $"bytes {from}-{content.Length - 1}/{content.Length}";
            }

            context.Response.ContentLength = content.Length - from;
            if (BreakNextDownloadAfter is { } cut)
            {
                BreakNextDownloadAfter = null;
                await context.Response.Body.WriteAsync(content.AsMemory((int)from, (int)cut));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }

            await context.Response.Body.WriteAsync(content.AsMemory((int)from));
        });
    }

    private sealed record Repo(bool Gated, string? Token)
    {
        public ConcurrentDictionary<string, (string Sha, string Published, long Size)> Files { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>A request the fake hub or CDN saw.</summary>
public sealed record SeenRequest(string Server, string Method, string Path, string? Range, string? Authorization)
{
    public static SeenRequest Of(string server, HttpContext context) => new(
        server,
        context.Request.Method,
        context.Request.Path.Value ?? "",
        context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null,
        context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null);
}
