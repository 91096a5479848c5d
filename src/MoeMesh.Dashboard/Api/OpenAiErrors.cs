using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace MoeMesh.Dashboard.Api;

/// <summary>The JSON conventions of the OpenAI API: snake_case names, nulls written out.</summary>
internal static class OpenAiJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>An error in the OpenAI shape: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
internal sealed record OpenAiError(string Message, string Type, string? Param = null, string? Code = null)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string NotFound = "not_found_error";
    public const string Server = "server_error";
    public const string Unavailable = "service_unavailable";

    /// <summary>Writes the error with <paramref name="status"/> unless the response has started.</summary>
    public Task WriteAsync(HttpContext context, int status)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new Envelope(this), OpenAiJson.Options, context.RequestAborted);
    }

    /// <summary>The error as a minimal-API result.</summary>
    public IResult ToResult(int status) => Results.Json(new Envelope(this), OpenAiJson.Options, statusCode: status);

    /// <summary>What <paramref name="read"/> returns, or a 503 (<c>mesh_unavailable</c>) when the mesh does not answer it.</summary>
    public static async Task<IResult> GuardMeshAsync(Func<Task<IResult>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return await read();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new OpenAiError($"The mesh is not answering: {ex.Message}", Unavailable, null, "mesh_unavailable").ToResult(StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>The JSON body.</summary>
    public sealed record Envelope(OpenAiError Error);
}
