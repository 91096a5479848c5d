using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeMesh.Catalog;
using MoeMesh.Dashboard.Live;
using MoeMesh.Queries;

namespace MoeMesh.Dashboard.Api;

/// <summary>The OpenAI-compatible API under <c>/v1</c>: chat completions and the model list.</summary>
internal static class OpenAiEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/chat/completions", (HttpContext context, ChatCompletionsHandler handler) => handler.HandleAsync(context));
        v1.MapGet("/models", ListModelsAsync);
        v1.MapGet("/models/{**id}", GetModelAsync);

        // Everything else under /v1 answers in the OpenAI error shape too.
        v1.Map("/{**rest}", (HttpContext context) => new OpenAiError(
                $"{context.Request.Method} {context.Request.Path} is not part of this API; it serves POST /v1/chat/completions and GET /v1/models.",
                OpenAiError.InvalidRequest,
                null,
                "unknown_url")
            .ToResult(StatusCodes.Status404NotFound));
    }

    private static async Task<IResult> ListModelsAsync(MeshReader mesh, HttpContext context)
    {
        try
        {
            var catalog = await mesh.GetCatalogAsync(cancellationToken: context.RequestAborted);
            return Results.Json(new ModelList(Models(catalog)), OpenAiJson.Options);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new OpenAiError($"The mesh is not reachable right now: {ex.Message}", OpenAiError.Unavailable, null, "mesh_unavailable").ToResult(StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<IResult> GetModelAsync(string id, MeshReader mesh, HttpContext context)
    {
        try
        {
            var catalog = await mesh.GetCatalogAsync(cancellationToken: context.RequestAborted);
            var model = Models(catalog).FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));
            return model is null
                ? new OpenAiError($"The model '{id}' does not exist; GET /v1/models lists the models.", OpenAiError.NotFound, "model", "model_not_found").ToResult(StatusCodes.Status404NotFound)
                : Results.Json(model, OpenAiJson.Options);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new OpenAiError($"The mesh is not reachable right now: {ex.Message}", OpenAiError.Unavailable, null, "mesh_unavailable").ToResult(StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>Every strategy, then every expert in the catalog.</summary>
    internal static List<ModelEntry> Models(CatalogSnapshot catalog)
    {
        var started = catalog.Silos.Count == 0 ? catalog.TakenAt : catalog.Silos.Min(s => s.RegisteredAt);
        var models = Enum.GetValues<RoutingStrategy>()
            .Select(s => new ModelEntry(ModelIds.ForStrategy(s), started.ToUnixTimeSeconds(), "moemesh", $"Routing strategy '{s.ToString().ToLowerInvariant()}' over every expert in the mesh"))
            .ToList();
        foreach (var expert in catalog.Experts)
        {
            var hosts = catalog.Silos.Where(s => s.HostableExperts.Contains(expert.Id, StringComparer.Ordinal)).ToList();
            models.Add(new ModelEntry(
                expert.Id,
                (hosts.Count == 0 ? started : hosts.Min(h => h.RegisteredAt)).ToUnixTimeSeconds(),
                "moemesh-expert",
                expert.Title,
                expert.Skills,
                hosts.Where(h => h.State != SiloState.Dead).Select(h => h.Device.Name).Distinct(StringComparer.Ordinal).ToList()));
        }

        return models;
    }
}
