using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using MoeMesh.Client;
using MoeMesh.Dashboard.Hosting;
using MoeMesh.Dashboard.Live;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Dashboard.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c>: reads and checks the body (size, JSON, fields, model, budgets) before
/// anything reaches a grain, then runs the query through <see cref="IMoeMeshClient"/> (the SDK's router
/// keys, retries and silence watchdog) and answers in one piece or as server-sent
/// <c>chat.completion.chunk</c> events ending with <c>data: [DONE]</c>.
/// </summary>
internal sealed partial class ChatCompletionsHandler(
    IMoeMeshClient client,
    MeshReader mesh,
    DashboardSettings settings,
    TimeProvider time,
    ILogger<ChatCompletionsHandler> logger)
{
    /// <summary>How long a stream may stay silent before an SSE comment keeps proxies from closing it.</summary>
    internal static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(2);


    public async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        if (!RequestBody.IsJson(context.Request.ContentType))
        {
            await new OpenAiError("Send the body as JSON with 'Content-Type: application/json'.", OpenAiError.InvalidRequest, null, "unsupported_media_type")
                .WriteAsync(context, StatusCodes.Status415UnsupportedMediaType);
            return;
        }

        var body = await RequestBody.ReadAsync(context.Request, settings.Options.MaxRequestBodyBytes, aborted);
        if (body is null)
        {
            await new OpenAiError(
                    $"The request body is larger than the {settings.Options.MaxRequestBodyBytes} bytes this server accepts (MoeMesh:Dashboard:MaxRequestBodyBytes).",
                    OpenAiError.InvalidRequest,
                    null,
                    "request_too_large")
                .WriteAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }

        ChatCompletionRequest? request;
        IReadOnlyList<RequestProblem> problems;
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            request = ChatCompletionRequestReader.Read(document.RootElement, out problems);
        }
        catch (JsonException ex)
        {
            await new OpenAiError($"The body is not valid JSON: {ex.Message}", OpenAiError.InvalidRequest, null, "invalid_json")
                .WriteAsync(context, StatusCodes.Status400BadRequest);
            return;
        }

        if (request is null)
        {
            await new OpenAiError(string.Join(" ", problems.Select(p => p.Message)), OpenAiError.InvalidRequest, problems.FirstOrDefault()?.Param)
                .WriteAsync(context, StatusCodes.Status400BadRequest);
            return;
        }

        if (request.ExpertId is { } expertId)
        {
            Catalog.CatalogSnapshot catalog;
            try
            {
                catalog = await mesh.GetCatalogAsync(cancellationToken: aborted);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await Unavailable(ex).WriteAsync(context, StatusCodes.Status503ServiceUnavailable);
                return;
            }

            if (catalog.Experts.All(e => !string.Equals(e.Id, expertId, StringComparison.Ordinal)))
            {
                await new OpenAiError(
                        $"The model '{expertId}' does not exist: it is neither a strategy ({string.Join(", ", ModelIds.StrategyModels)}) nor an expert in the mesh. GET /v1/models lists them.",
                        OpenAiError.NotFound,
                        "model",
                        "model_not_found")
                    .WriteAsync(context, StatusCodes.Status404NotFound);
                return;
            }
        }

        LogQuery(logger, request.Query.Id, request.Model, request.Stream);
        if (request.Stream)
        {
            await StreamAsync(context, request);
        }
        else
        {
            await AnswerAsync(context, request);
        }
    }

    private async Task AnswerAsync(HttpContext context, ChatCompletionRequest request)
    {
        var notices = new List<string>();
        QueryResult? result = null;
        try
        {
            await foreach (var e in client.StreamAsync(request.Query, context.RequestAborted))
            {
                switch (e)
                {
                    case QueryNotice notice:
                        notices.Add(notice.Message);
                        break;
                    case QueryCompleted completed:
                        result = completed.Result;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            var (error, status) = Map(ex);
            await error.WriteAsync(context, status);
            return;
        }

        if (result is null)
        {
            await new OpenAiError("The query ended without an answer.", OpenAiError.Server).WriteAsync(context, StatusCodes.Status500InternalServerError);
            return;
        }

        var completion = new ChatCompletion(
            IdOf(request),
            time.GetUtcNow().ToUnixTimeSeconds(),
            request.Model,
            [new ChatCompletionChoice(0, new ChatCompletionMessage("assistant", result.Answer), RunAccounting.FinishReasonOf(result))],
            ChatUsage.Of(result),
            MeshAccounting.Of(result, notices));
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, completion, OpenAiJson.Options, context.RequestAborted);
    }

    private async Task StreamAsync(HttpContext context, ChatCompletionRequest request)
    {
        var aborted = context.RequestAborted;
        var id = IdOf(request);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var notices = new List<string>();
        var events = client.StreamAsync(request.Query, aborted).GetAsyncEnumerator(aborted);
        try
        {
            // The first event is the plan (the client drops heartbeats); errors before it still get a status code.
            bool any;
            try
            {
                any = await events.MoveNextAsync();
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var (error, status) = Map(ex);
                await error.WriteAsync(context, status);
                return;
            }

            var response = EventStream.Begin(context);

            object? plan = events.Current is PlanChosen chosen ? new { plan = MeshPlanSummary.Of(chosen.Plan) } : null;
            await EventStream.WriteChunkAsync(response, new ChatCompletionChunk(id, created, request.Model, [new ChatChunkChoice(0, new ChatDelta(Role: "assistant", Content: ""), null)], Moemesh: plan), aborted);

            try
            {
                while (any)
                {
                    switch (events.Current)
                    {
                        case TokenProduced { IsAnswer: true } token when token.Text.Length > 0:
                            await EventStream.WriteChunkAsync(response, new ChatCompletionChunk(id, created, request.Model, [new ChatChunkChoice(0, new ChatDelta(Content: token.Text), null)]), aborted);
                            break;
                        case QueryNotice notice:
                            notices.Add(notice.Message);
                            break;
                        case QueryCompleted completed:
                            await WriteFinalChunksAsync(response, request, id, created, completed.Result, notices, aborted);
                            break;
                    }

                    any = await NextAsync(events, response, aborted);
                }

                await EventStream.WriteDoneAsync(response, aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The caller went away; cancelling the enumeration stopped the experts.
            }
            catch (Exception ex)
            {
                // Headers are sent: the error goes into the stream, as OpenAI does.
                var (error, _) = Map(ex);
                var payload = JsonSerializer.SerializeToUtf8Bytes(new OpenAiError.Envelope(error), OpenAiJson.Options);
                await EventStream.WriteDataAsync(response, payload, CancellationToken.None);
            }
        }
        finally
        {
            await events.DisposeAsync();
        }
    }

    /// <summary>The finish reason with the mesh's accounting, then the usage chunk when the caller asked for it.</summary>
    private static async Task WriteFinalChunksAsync(
        HttpResponse response, ChatCompletionRequest request, string id, long created, QueryResult result, IReadOnlyList<string> notices, CancellationToken aborted)
    {
        await EventStream.WriteChunkAsync(
            response,
            new ChatCompletionChunk(id, created, request.Model, [new ChatChunkChoice(0, new ChatDelta(), RunAccounting.FinishReasonOf(result))], Moemesh: MeshAccounting.Of(result, notices)),
            aborted);
        if (request.IncludeUsage)
        {
            await EventStream.WriteChunkAsync(response, new ChatCompletionChunk(id, created, request.Model, [], Usage: ChatUsage.Of(result)), aborted);
        }
    }

    /// <summary>
    /// The next event; while the mesh is silent (experts thinking), an SSE comment every
    /// <see cref="KeepAliveInterval"/> keeps proxies from closing the stream. The client drops the
    /// routers' heartbeats, so the silence is measured here.
    /// </summary>
    private async Task<bool> NextAsync(IAsyncEnumerator<QueryEvent> events, HttpResponse response, CancellationToken aborted)
    {
        var move = events.MoveNextAsync();
        if (move.IsCompleted)
        {
            return await move;
        }

        // Not cancelled here: the enumerator sees the same token and ends the move itself.
        var waiting = move.AsTask();
        while (true)
        {
            try
            {
                return await waiting.WaitAsync(KeepAliveInterval, time);
            }
            catch (TimeoutException) when (!waiting.IsCompleted)
            {
                try
                {
                    await EventStream.WriteKeepAliveAsync(response, aborted);
                }
                catch
                {
                    // The caller is gone: the pending move ends on the same cancellation; let it before the enumerator is disposed.
                    await Task.WhenAny(waiting);
                    throw;
                }
            }
        }
    }

    private (OpenAiError Error, int Status) Map(Exception ex)
    {
        switch (ex)
        {
            case InvalidRequestException:
                return (new OpenAiError(ex.Message, OpenAiError.InvalidRequest), StatusCodes.Status400BadRequest);
            case ExpertUnavailableException:
                LogQueryFailed(logger, ex);
                return (new OpenAiError(ex.Message, OpenAiError.Unavailable, null, "expert_unavailable"), StatusCodes.Status503ServiceUnavailable);
            case OrleansException or TimeoutException or OperationCanceledException:
                LogQueryFailed(logger, ex);
                return (Unavailable(ex), StatusCodes.Status503ServiceUnavailable);
            default:
                LogQueryFailed(logger, ex);
                return (new OpenAiError($"The mesh failed to answer: {ex.Message}", OpenAiError.Server), StatusCodes.Status500InternalServerError);
        }
    }

    private static OpenAiError Unavailable(Exception ex)
        => new($"The mesh is not reachable right now: {ex.Message}", OpenAiError.Unavailable, null, "mesh_unavailable");

    private static string IdOf(ChatCompletionRequest request) => "chatcmpl-" + request.Query.Id;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat completion {QueryId}: model {Model}, stream {Stream}")]
    private static partial void LogQuery(ILogger logger, string queryId, string model, bool stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A chat completion failed")]
    private static partial void LogQueryFailed(ILogger logger, Exception exception);
}
