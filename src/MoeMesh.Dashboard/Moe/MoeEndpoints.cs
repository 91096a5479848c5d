using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeMesh.Dashboard.Api;
using MoeMesh.Dashboard.Live;
using MoeMesh.Dashboard.Ui;
using MoeMesh.Serialization;

namespace MoeMesh.Dashboard.Moe;

/// <summary>
/// The token-path page (<c>/moe</c>: per-layer × expert routing heat maps, hop latency, bytes per token,
/// shard placement) and its data (<c>/api/moe</c>, <c>/api/moe/{model}</c>).
/// </summary>
internal static class MoeEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints, string policy)
    {
        endpoints.MapGet("/moe", (HttpContext context) => UiEndpoints.Serve(context, "moe.html")).RequireAuthorization(policy);

        var api = endpoints.MapGroup("/api/moe").RequireAuthorization(policy);
        api.MapGet("", async (IGrainFactory grains, MeshReader mesh, TimeProvider time, HttpContext context) =>
            await OpenAiError.GuardMeshAsync(async () => Results.Json(await new MoeStatsReader(grains, mesh, time).ReadAsync(null, context.RequestAborted), MoeMeshJson.Compact)));
        api.MapGet("/{model}", async (string model, IGrainFactory grains, MeshReader mesh, TimeProvider time, HttpContext context) =>
            await OpenAiError.GuardMeshAsync(async () =>
            {
                var view = await new MoeStatsReader(grains, mesh, time).ReadAsync(model, context.RequestAborted);
                return view.Models.Count == 0
                    ? new OpenAiError($"'{model}' is not a Mixture-of-Experts model in the catalog.", OpenAiError.NotFound, "model", "model_not_found").ToResult(StatusCodes.Status404NotFound)
                    : Results.Json(view, MoeMeshJson.Compact);
            }));
    }
}
