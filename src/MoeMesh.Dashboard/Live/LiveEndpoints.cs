using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Dashboard.Api;
using MoeMesh.Dashboard.Hosting;
using MoeMesh.Monitoring;
using MoeMesh.Serialization;

namespace MoeMesh.Dashboard.Live;

/// <summary>
/// The page's data: <c>/api/live</c> (server-sent events: the mesh view, then routing decisions as they
/// happen) and JSON endpoints for scripts (<c>/api/mesh</c>, <c>/api/overview</c>, <c>/api/catalog</c>, <c>/api/info</c>).
/// </summary>
internal static class LiveEndpoints
{
    /// <summary>A comment line keeps idle connections (and proxies) open.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/info", (DashboardSettings settings, IServiceProvider services) => Results.Json(new DashboardInfo(
            Version: typeof(LiveEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            KeyRequired: settings.Keys.Required,
            LoopbackOnly: !settings.Keys.Required,
            Listen: Microsoft.Extensions.Hosting.MoeMeshDashboardExtensions.DashboardUrls(services),
            OrleansDashboard: settings.Options.OrleansDashboard,
            LiveIntervalMs: settings.Options.LiveIntervalMs), MoeMeshJson.Compact));

        api.MapGet("/overview", async (MeshReader reader, DashboardSettings settings, HttpContext context) =>
            await OpenAiError.GuardMeshAsync(async () => Results.Json(await reader.GetOverviewAsync(settings.Options.RecentDecisions, context.RequestAborted), MoeMeshJson.Compact)));

        api.MapGet("/catalog", async (MeshReader reader, HttpContext context) =>
            await OpenAiError.GuardMeshAsync(async () => Results.Json(await reader.GetCatalogAsync(TimeSpan.Zero, context.RequestAborted), MoeMeshJson.Compact)));

        api.MapGet("/mesh", async (MeshReader reader, TimeProvider time, HttpContext context) =>
            await OpenAiError.GuardMeshAsync(async () =>
            {
                var overview = await reader.GetOverviewAsync(0, context.RequestAborted);
                var catalog = await reader.GetCatalogAsync(cancellationToken: context.RequestAborted);
                return Results.Json(MeshViewBuilder.Build(catalog, overview, time.GetUtcNow()), MoeMeshJson.Compact);
            }));

        api.MapGet("/live", StreamAsync);
    }

    /// <summary>Server-sent events: "mesh" (the whole view, when it changes), "decisions" (the recent ones, on connect), "decision" (each new one), "status".</summary>
    private static async Task StreamAsync(HttpContext context, LiveFeed feed, MeshReader reader, DashboardSettings settings, TimeProvider time)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var aborted = context.RequestAborted;

        MeshOverview? overview = null;
        string? failure = null;
        try
        {
            overview = await reader.GetOverviewAsync(settings.Options.RecentDecisions, aborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failure = ex.Message;
        }

        using var subscription = feed.Subscribe(overview?.LastSequence ?? 0);
        try
        {
            await WriteAsync(response, null, "retry: 3000\n\n", aborted);
            if (overview is not null)
            {
                var catalog = await reader.GetCatalogAsync(cancellationToken: aborted);
                await WriteEventAsync(response, "mesh", JsonSerializer.Serialize(MeshViewBuilder.Build(catalog, overview, time.GetUtcNow()), MoeMeshJson.Compact), aborted);
                await WriteEventAsync(response, "decisions", JsonSerializer.Serialize(overview.RecentDecisions.Reverse(), MoeMeshJson.Compact), aborted);
                await WriteEventAsync(response, "status", JsonSerializer.Serialize(new LiveStatus(true, "connected to the mesh"), MoeMeshJson.Compact), aborted);
            }
            else
            {
                await WriteEventAsync(response, "status", JsonSerializer.Serialize(new LiveStatus(false, $"the mesh is not answering: {failure}"), MoeMeshJson.Compact), aborted);
            }

            while (!aborted.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                wait.CancelAfter(Heartbeat);
                try
                {
                    if (!await subscription.Reader.WaitToReadAsync(wait.Token))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await WriteAsync(response, null, ": keep-alive\n\n", aborted);
                    continue;
                }

                while (subscription.Reader.TryRead(out var message))
                {
                    await WriteEventAsync(response, message.Event, message.Data, aborted);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The page was closed.
        }
    }

    private static Task WriteEventAsync(HttpResponse response, string name, string json, CancellationToken cancellationToken)
        => WriteAsync(response, name, json, cancellationToken);

    private static async Task WriteAsync(HttpResponse response, string? eventName, string payload, CancellationToken cancellationToken)
    {
        var text = eventName is null ? payload : $"event: {eventName}\ndata: {payload}\n\n";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>What the page needs to know about the server.</summary>
    internal sealed record DashboardInfo(string Version, bool KeyRequired, bool LoopbackOnly, IReadOnlyList<string> Listen, bool OrleansDashboard, int LiveIntervalMs);
}
