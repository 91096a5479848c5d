using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeMesh.Dashboard.Hosting;
using MoeMesh.Dashboard.Ui;

namespace MoeMesh.Dashboard.Security;

/// <summary>
/// The dashboard's login: <c>GET /login</c> shows a form, <c>POST /login</c> (form field <c>key</c>) or
/// <c>GET /login?key=…</c> (so <c>http://host:5080/?key=…</c> works from a terminal) checks the key and
/// sets an HttpOnly, SameSite=Strict session cookie; <c>/logout</c> removes it.
/// </summary>
internal static class LoginEndpoints
{
    private static readonly TimeSpan SessionLifetime = TimeSpan.FromDays(7);

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/login", (HttpContext context, DashboardSettings settings) =>
        {
            var returnUrl = SafeReturnUrl(context.Request.Query["returnUrl"]);
            if (!settings.Keys.Required)
            {
                return Results.Redirect(returnUrl);
            }

            if (context.Request.Query.TryGetValue("key", out var key))
            {
                return SignIn(context, settings, key.ToString(), returnUrl);
            }

            return context.Request.Cookies.TryGetValue(DashboardAuth.Cookie, out var session) && settings.Keys.IsValidSession(session)
                ? Results.Redirect(returnUrl)
                : LoginPage(returnUrl, error: null, StatusCodes.Status200OK);
        }).AllowAnonymous();

        endpoints.MapPost("/login", async (HttpContext context, DashboardSettings settings) =>
        {
            if (!context.Request.HasFormContentType)
            {
                return LoginPage("/", "Send the key from the login form.", StatusCodes.Status400BadRequest);
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var returnUrl = SafeReturnUrl(form["returnUrl"]);
            return settings.Keys.Required ? SignIn(context, settings, form["key"].ToString(), returnUrl) : Results.Redirect(returnUrl);
        }).AllowAnonymous().DisableAntiforgery();

        endpoints.MapMethods("/logout", [HttpMethods.Get, HttpMethods.Post], (HttpContext context) =>
        {
            context.Response.Cookies.Delete(DashboardAuth.Cookie, new CookieOptions { Path = "/" });
            return Results.Redirect("/login");
        }).AllowAnonymous().DisableAntiforgery();
    }

    private static IResult SignIn(HttpContext context, DashboardSettings settings, string key, string returnUrl)
    {
        if (!settings.Keys.IsValidKey(key))
        {
            return LoginPage(returnUrl, "That key is not valid.", StatusCodes.Status401Unauthorized);
        }

        context.Response.Cookies.Append(DashboardAuth.Cookie, ApiKeySet.SessionTokenFor(key), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            MaxAge = SessionLifetime,
            IsEssential = true,
        });
        return Results.Redirect(returnUrl);
    }

    /// <summary>Only a path on this server: never another site.</summary>
    internal static string SafeReturnUrl(string? url)
        => !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
           && !url.StartsWith("/login", StringComparison.OrdinalIgnoreCase)
            ? url
            : "/";

    private static IResult LoginPage(string returnUrl, string? error, int status)
    {
        var html = HtmlEncoder.Default;
        var message = error is null ? "" : $"<p class=\"login-error\" role=\"alert\">{html.Encode(error)}</p>";
        var page = $$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>MoeMesh · sign in</title>
              <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
              <link rel="stylesheet" href="/assets/dashboard.css">
            </head>
            <body class="login">
              <form class="login-card" method="post" action="/login">
                <h1><span class="logo" aria-hidden="true"></span>MoeMesh</h1>
                <p>This dashboard needs one of the API keys set in <code>MoeMesh:Dashboard:ApiKeys</code>.</p>
                {{message}}
                <label for="key">API key</label>
                <input id="key" name="key" type="password" autocomplete="current-password" autofocus required>
                <input type="hidden" name="returnUrl" value="{{html.Encode(returnUrl)}}">
                <button type="submit">Open the dashboard</button>
              </form>
            </body>
            </html>
            """;
        return new HtmlResult(page, status);
    }
}
