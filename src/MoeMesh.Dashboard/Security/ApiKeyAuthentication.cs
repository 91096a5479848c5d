using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Dashboard.Api;
using MoeMesh.Dashboard.Hosting;

namespace MoeMesh.Dashboard.Security;

/// <summary>Names of the dashboard's authentication scheme, policy and cookie.</summary>
public static class DashboardAuth
{
    /// <summary>The authentication scheme: a bearer API key or the dashboard's session cookie.</summary>
    public const string Scheme = "MoeMeshApiKey";

    /// <summary>The authorization policy every dashboard and API endpoint requires.</summary>
    public const string Policy = "MoeMeshDashboard";

    /// <summary>The HttpOnly cookie the login sets.</summary>
    public const string Cookie = "moemesh_session";

    internal const string FailureItem = "moemesh.auth.failure";
}

/// <summary>
/// Authenticates a request by <c>Authorization: Bearer &lt;key&gt;</c> or by the session cookie the login
/// sets. With no key configured every request passes (the server then listens on the loopback interface
/// only). A refused API call gets 401 in the OpenAI error shape; a refused page is sent to the login form.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    DashboardSettings settings) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var keys = settings.Keys;
        if (!keys.Required)
        {
            return Task.FromResult(Success("loopback"));
        }

        string? authorization = Request.Headers.Authorization;
        if (!string.IsNullOrEmpty(authorization))
        {
            const string bearer = "Bearer ";
            if (!authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            {
                return Task.FromResult(Fail("The Authorization header must be 'Bearer <key>'."));
            }

            return Task.FromResult(keys.IsValidKey(authorization[bearer.Length..].Trim())
                ? Success("api-key")
                : Fail("Incorrect API key provided."));
        }

        if (Request.Cookies.TryGetValue(DashboardAuth.Cookie, out var session))
        {
            return Task.FromResult(keys.IsValidSession(session)
                ? Success("session")
                : Fail("The dashboard session is no longer valid; log in again."));
        }

        return Task.FromResult(AuthenticateResult.NoResult());
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[DashboardAuth.FailureItem] as string;
        if (WantsPage(Request))
        {
            // The key, when the address carries one, goes to the login and not into the address to come back to.
            var query = QueryString.Create(Request.Query.Where(q => q.Key != "key"));
            var target = Request.PathBase + Request.Path + query;
            var login = $"/login?returnUrl={Uri.EscapeDataString(target)}";
            if (Request.Query.TryGetValue("key", out var key) && !string.IsNullOrEmpty(key))
            {
                login += "&key=" + Uri.EscapeDataString(key!);
            }

            Response.Redirect(Request.PathBase + login);
            return;
        }

        Response.Headers.WWWAuthenticate = "Bearer realm=\"moemesh\"";
        var message = failure ?? "Missing API key: send it as 'Authorization: Bearer <key>' (keys are set in MoeMesh:Dashboard:ApiKeys).";
        await new OpenAiError(message, OpenAiError.InvalidRequest, null, "invalid_api_key").WriteAsync(Context, StatusCodes.Status401Unauthorized);
    }

    /// <summary>A browser navigating to a page (not a script calling the API) is better served by the login form.</summary>
    private static bool WantsPage(HttpRequest request)
        => HttpMethods.IsGet(request.Method)
           && !request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
           && !request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
           && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private AuthenticateResult Success(string how)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, how)], DashboardAuth.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), DashboardAuth.Scheme));
    }

    private AuthenticateResult Fail(string message)
    {
        Context.Items[DashboardAuth.FailureItem] = message;
        return AuthenticateResult.Fail(message);
    }
}
