using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>
/// The few hub calls a pull needs: a repository's file list, a file's published metadata (from the
/// hub's own response, before its redirect to the CDN) and the download itself. Redirects are
/// followed here rather than by the handler, so the token goes only to the hub and never to the CDN.
/// </summary>
public sealed class HubClient
{
    private const int MaxRedirects = 10;
    private readonly HttpClient _http;
    private readonly HubSettings _settings;

    public HubClient(HttpClient http, HubSettings settings)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(settings);
        _http = http;
        _settings = settings;
    }

    public HubSettings Settings => _settings;

    /// <summary>An HTTP client for the hub: no automatic redirects, a bounded connect time, no overall timeout (downloads are long).</summary>
    public static HttpClient CreateHttpClient(TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = connectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("moemesh", typeof(HubClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        return http;
    }

    /// <summary>The file names of <paramref name="repository"/> at <paramref name="revision"/> (<c>siblings[].rfilename</c>).</summary>
    public async Task<IReadOnlyList<string>> ListFilesAsync(HubRepository repository, string revision, CancellationToken cancellationToken)
    {
        var url = repository.RevisionUrl(_settings.Endpoint, revision);
        using var response = await SendAsync(HttpMethod.Get, url, null, stopAtLfsRedirect: false, HttpCompletionOption.ResponseContentRead, cancellationToken);
        EnsureSuccess(response, repository, url, $"{repository} at revision {revision}");
        try
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (!json.RootElement.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
            {
                throw new HubException(HubFailure.BadResponse, $"The hub's file list for {repository} ({url}) has no 'siblings' array.");
            }

            return [.. siblings.EnumerateArray()
                .Select(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("rfilename", out var name) ? name.GetString() : null)
                .OfType<string>()];
        }
        catch (JsonException ex)
        {
            throw new HubException(HubFailure.BadResponse, $"The hub's file list for {repository} ({url}) is not JSON: {ex.Message}", ex);
        }
    }

    /// <summary>What the hub publishes about <paramref name="file"/>: commit, hash, size and where to download it.</summary>
    public async Task<HubFileInfo> GetFileInfoAsync(HubRepository repository, string revision, string file, CancellationToken cancellationToken)
    {
        var url = repository.ResolveUrl(_settings.Endpoint, revision, file);
        using var response = await SendAsync(HttpMethod.Head, url, null, stopAtLfsRedirect: true, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        EnsureSuccess(response, repository, url, $"{repository}/{file} at revision {revision}");
        var headers = response.Headers;
        var location = IsRedirect(response.StatusCode) ? Location(response) : null;
        var etag = Header(headers, "X-Linked-Etag") ?? headers.ETag?.Tag;
        var size = long.TryParse(Header(headers, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
        return new HubFileInfo(location ?? response.RequestMessage?.RequestUri ?? url, Header(headers, "X-Repo-Commit"), NormalizeETag(etag), size);
    }

    /// <summary>
    /// Starts downloading <paramref name="url"/> from byte <paramref name="from"/> (a Range request when
    /// above 0); the caller reads the body and disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage> OpenDownloadAsync(HubRepository repository, Uri url, long from, CancellationToken cancellationToken)
    {
        var range = from > 0 ? new RangeHeaderValue(from, null) : null;
        var response = await SendAsync(HttpMethod.Get, url, range, stopAtLfsRedirect: false, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            try
            {
                EnsureSuccess(response, repository, url, repository.Id);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        return response;
    }

    /// <summary>Maps connection failures to <see cref="HubFailure.Offline"/>; other errors are left as they are.</summary>
    internal HubException? AsOffline(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.ProxyTunnelError } or HttpRequestException { InnerException: SocketException }
            => Offline(ex.InnerException?.Message ?? ex.Message, ex),
        OperationCanceledException when !cancellationToken.IsCancellationRequested => Offline("no answer in time", ex),
        _ => null,
    };

    private HubException Offline(string reason, Exception ex)
        => new(HubFailure.Offline, $"offline: cannot reach the model hub at {_settings.Endpoint.AbsoluteUri.TrimEnd('/')} ({reason.TrimEnd('.')}). Check the network, or set HF_ENDPOINT to a reachable mirror.", ex);

    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, Uri url, RangeHeaderValue? range, bool stopAtLfsRedirect, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Range = range;
            if (_settings.Token is { } token && SameOrigin(url, _settings.Endpoint))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, cancellationToken);
            }
            catch (Exception ex) when (AsOffline(ex, cancellationToken) is { } offline)
            {
                throw offline;
            }

            if (!IsRedirect(response.StatusCode) || Location(response) is not { } next
                || (stopAtLfsRedirect && (Header(response.Headers, "X-Linked-Etag") is not null || !SameOrigin(next, _settings.Endpoint))))
            {
                return response;
            }

            response.Dispose();
            if (hop >= MaxRedirects)
            {
                throw new HubException(HubFailure.BadResponse, $"More than {MaxRedirects} redirects from {url}.");
            }

            url = next;
        }
    }

    private void EnsureSuccess(HttpResponseMessage response, HubRepository repository, Uri url, string what)
    {
        if (response.IsSuccessStatusCode || IsRedirect(response.StatusCode))
        {
            return;
        }

        var code = (int)response.StatusCode;
        var hubMessage = Header(response.Headers, "X-Error-Message");
        if (response.RequestMessage?.RequestUri is { } answered && !SameOrigin(answered, _settings.Endpoint))
        {
            // The CDN, not the hub: its refusals are about the signed link, not about access to the model.
            throw new HubException(HubFailure.BadResponse, $"the download server answered {code} {response.ReasonPhrase} for {what}; run the command again for a fresh link.");
        }

        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubException(HubFailure.Denied,
                $"access denied ({code}) to {what}: the model is gated or private{(_settings.Token is null ? "" : ", and HF_TOKEN has no access to it")}. "
                + $"Accept its licence at {repository.PageUrl(_settings.Endpoint)} and set HF_TOKEN to a token with read access."),
            HttpStatusCode.NotFound => new HubException(HubFailure.NotFound,
                $"not found (404): {what}{(hubMessage is null ? "" : $" ({hubMessage})")}. Check the names at {repository.PageUrl(_settings.Endpoint)}."),
            _ => new HubException(HubFailure.BadResponse, $"the hub answered {code} {response.ReasonPhrase} for {url}{(hubMessage is null ? "" : $": {hubMessage}")}."),
        };
    }

    private static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400 and not 304;

    private static Uri? Location(HttpResponseMessage response)
        => response.Headers.Location is { } location
            ? location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location)
            : null;

    private static bool SameOrigin(Uri a, Uri b)
        => string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string? Header(HttpResponseHeaders headers, string name)
        => headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string? NormalizeETag(string? etag)
    {
        if (string.IsNullOrWhiteSpace(etag))
        {
            return null;
        }

        var tag = etag.Trim();
        if (tag.StartsWith("W/", StringComparison.Ordinal))
        {
            tag = tag[2..];
        }

        return tag.Trim('"');
    }
}
