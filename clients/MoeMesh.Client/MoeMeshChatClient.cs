using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>
/// The mesh as an <see cref="IChatClient"/>, so any Microsoft.Extensions.AI consumer can use it.
/// <see cref="ChatOptions.ModelId"/> selects a strategy ("moemesh-symbolic") or one expert by id;
/// budgets and k go in <see cref="ChatOptions.AdditionalProperties"/> as <c>k</c>,
/// <c>budget_ms</c> and <c>budget_j</c>. The <see cref="QueryResult"/> (plan and accounting) is the
/// response's raw representation.
/// </summary>
public sealed class MoeMeshChatClient(IMoeMeshClient mesh, QueryOptions? defaults = null, TimeProvider? time = null) : IChatClient
{
    public const string KProperty = "k";
    public const string LatencyBudgetProperty = "budget_ms";
    public const string EnergyBudgetProperty = "budget_j";

    private readonly QueryOptions _defaults = defaults ?? new QueryOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var query = ToQuery(messages, options);
        var result = await mesh.AskAsync(query, cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Answer))
        {
            ResponseId = result.QueryId,
            ModelId = ModelOf(query),
            CreatedAt = _time.GetUtcNow(),
            FinishReason = FinishOf(result),
            Usage = UsageOf(result),
            RawRepresentation = result,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = ToQuery(messages, options);
        var model = ModelOf(query);
        await foreach (var e in mesh.StreamAsync(query, cancellationToken))
        {
            switch (e)
            {
                case TokenProduced { IsAnswer: true } token:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, token.Text)
                    {
                        ResponseId = query.Id,
                        ModelId = model,
                        RawRepresentation = token,
                    };
                    break;
                case QueryCompleted completed:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(UsageOf(completed.Result))])
                    {
                        ResponseId = query.Id,
                        ModelId = model,
                        FinishReason = FinishOf(completed.Result),
                        RawRepresentation = completed.Result,
                    };
                    break;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return new ChatClientMetadata("moemesh", defaultModelId: ModelIds.ForStrategy(_defaults.Strategy));
        }

        return serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(mesh) ? mesh
            : null;
    }

    public void Dispose()
    {
    }

    /// <summary>The query the chat messages and options describe.</summary>
    public Query ToQuery(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = messages
            .Where(m => !string.IsNullOrEmpty(m.Text))
            .Select(m => new ChatTurn(m.Role.Value, m.Text))
            .ToList();
        var queryOptions = ModelIds.Apply(options?.ModelId, _defaults);
        if (options is not null)
        {
            var sampling = queryOptions.Sampling;
            sampling = sampling with
            {
                Temperature = options.Temperature ?? sampling.Temperature,
                TopP = options.TopP ?? sampling.TopP,
                TopK = options.TopK ?? sampling.TopK,
                Seed = options.Seed is { } seed ? unchecked((uint)seed) : sampling.Seed,
                RepetitionPenalty = options.FrequencyPenalty is { } f ? 1 + f : sampling.RepetitionPenalty,
            };
            queryOptions = queryOptions with
            {
                Sampling = sampling,
                MaxTokens = options.MaxOutputTokens ?? queryOptions.MaxTokens,
                Stop = options.StopSequences?.ToList() ?? queryOptions.Stop,
                K = ReadInt(options, KProperty) ?? queryOptions.K,
                LatencyBudgetMs = ReadDouble(options, LatencyBudgetProperty) ?? queryOptions.LatencyBudgetMs,
                EnergyBudgetJoules = ReadDouble(options, EnergyBudgetProperty) ?? queryOptions.EnergyBudgetJoules,
            };
        }

        return new Query { Messages = turns, Options = queryOptions };
    }

    private static string ModelOf(Query query)
        => query.Options.Experts.Count == 1 ? query.Options.Experts[0] : ModelIds.ForStrategy(query.Options.Strategy);

    /// <summary>
    /// Why a finished query stopped: <see cref="ChatFinishReason.Length"/> when any run hit its token limit,
    /// else <see cref="ChatFinishReason.Stop"/> (also for a query without runs). The OpenAI-compatible API
    /// answers with this reason's value, so both entry points say the same.
    /// </summary>
    public static ChatFinishReason FinishOf(QueryResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Runs.Any(r => r.Metrics?.FinishReason == FinishReason.MaxTokens) ? ChatFinishReason.Length : ChatFinishReason.Stop;
    }

    /// <summary>Tokens a finished query read and wrote, summed over every run (zero for runs without metrics).</summary>
    public static UsageDetails UsageOf(QueryResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var input = result.Runs.Sum(r => (long)(r.Metrics?.PromptTokens ?? 0));
        var output = result.Runs.Sum(r => (long)(r.Metrics?.GeneratedTokens ?? 0));
        return new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output };
    }

    private static int? ReadInt(ChatOptions options, string key)
        => options.AdditionalProperties?.TryGetValue(key, out var value) == true ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : null;

    private static double? ReadDouble(ChatOptions options, string key)
        => options.AdditionalProperties?.TryGetValue(key, out var value) == true ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : null;
}
