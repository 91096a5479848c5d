using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MoeMesh.Dashboard.Ui;

/// <summary>
/// The page itself (<c>/</c>) and its files (<c>/assets/…</c>), served from resources embedded in this
/// assembly: plain HTML, CSS and JavaScript with nothing loaded from anywhere else.
/// </summary>
internal static class UiEndpoints
{
    /// <summary>Scripts, styles and connections only from this server; no framing.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = LoadAssets();

    public static void Map(IEndpointRouteBuilder endpoints, string policy)
    {
        endpoints.MapGet("/", (HttpContext context) => Serve(context, "index.html")).RequireAuthorization(policy);
        endpoints.MapGet("/index.html", (HttpContext context) => Serve(context, "index.html")).RequireAuthorization(policy);

        // Styles, script and icon carry no data; the login page needs them before any key is given.
        endpoints.MapGet("/assets/{name}", (string name, HttpContext context) => Serve(context, name)).AllowAnonymous();
        endpoints.MapGet("/healthz", () => Results.Text("ok")).AllowAnonymous();
    }

    internal static IResult Serve(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        SecurityHeaders.Apply(context.Response);
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        const string prefix = "MoeMesh.Dashboard.Ui.";
        var assembly = typeof(UiEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var name = resource[prefix.Length..];
            var etag = "\"" + Convert.ToHexString(SHA256.HashData(content), 0, 8).ToLowerInvariant() + "\"";
            assets[name] = new Asset(content, ContentTypeOf(name), etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}

/// <summary>Headers every page of the dashboard carries.</summary>
internal static class SecurityHeaders
{
    public static void Apply(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = UiEndpoints.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
    }
}

/// <summary>An HTML page written with the dashboard's security headers.</summary>
internal sealed class HtmlResult(string html, int status) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = status;
        httpContext.Response.ContentType = "text/html; charset=utf-8";
        httpContext.Response.Headers.CacheControl = "no-store";
        SecurityHeaders.Apply(httpContext.Response);
        return httpContext.Response.WriteAsync(html, Encoding.UTF8);
    }
}
