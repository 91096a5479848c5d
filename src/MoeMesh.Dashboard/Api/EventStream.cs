using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace MoeMesh.Dashboard.Api;

/// <summary>Server-sent events as OpenAI streams them: <c>data:</c> lines of JSON, ending with <c>data: [DONE]</c>.</summary>
internal static class EventStream
{
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    /// <summary>Sends the event-stream headers, unbuffered, so each chunk leaves as it is written.</summary>
    public static HttpResponse Begin(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return response;
    }

    /// <summary>An SSE comment: keeps proxies from closing a stream while experts think.</summary>
    public static async Task WriteKeepAliveAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(KeepAlive, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>The end of the stream.</summary>
    public static async Task WriteDoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Done, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    public static Task WriteChunkAsync(HttpResponse response, ChatCompletionChunk chunk, CancellationToken cancellationToken)
        => WriteDataAsync(response, JsonSerializer.SerializeToUtf8Bytes(chunk, OpenAiJson.Options), cancellationToken);

    public static async Task WriteDataAsync(HttpResponse response, byte[] json, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync("data: "u8.ToArray(), cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
