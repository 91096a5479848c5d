using System.Globalization;
using System.Text.Json;
using MoeMesh.Generation;
using MoeMesh.Queries;
using static MoeMesh.Dashboard.Api.ChatMessagesReader;
using static MoeMesh.Dashboard.Api.JsonFields;

namespace MoeMesh.Dashboard.Api;

/// <summary>A chat completion request, read and checked, as the query it asks for.</summary>
/// <param name="Model">The model name as the caller wrote it (a strategy or an expert id).</param>
/// <param name="Query">The query to run.</param>
/// <param name="Stream">True for server-sent events.</param>
/// <param name="IncludeUsage">True when <c>stream_options.include_usage</c> asked for a usage chunk.</param>
/// <param name="ExpertId">The expert the model names, when it names one instead of a strategy.</param>
internal sealed record ChatCompletionRequest(string Model, Query Query, bool Stream, bool IncludeUsage, string? ExpertId);

/// <summary>Something wrong with a request body, naming the field as the OpenAI API spells it.</summary>
internal sealed record RequestProblem(string Message, string? Param);

/// <summary>
/// Reads an OpenAI <c>POST /v1/chat/completions</c> body into a <see cref="Query"/>: messages (system,
/// developer, user, assistant; string content or text parts), <c>model</c>, <c>max_tokens</c> /
/// <c>max_completion_tokens</c>, <c>temperature</c>, <c>top_p</c>, <c>top_k</c>, <c>seed</c>, <c>stop</c>,
/// <c>frequency_penalty</c>, <c>stream</c>, <c>stream_options</c>, and MoeMesh's extras <c>k</c>,
/// <c>budget_ms</c>, <c>budget_j</c> and <c>strategy</c>. Every problem is reported, each naming its field;
/// features MoeMesh does not have (tools, several choices, log probabilities, images) are refused, not ignored.
/// </summary>
internal static class ChatCompletionRequestReader
{
    public const string DefaultModel = ModelIds.Prefix;

    private static readonly string[] Unsupported = ["tools", "tool_choice", "functions", "function_call", "audio", "modalities", "prediction"];

    public static ChatCompletionRequest? Read(JsonElement body, out IReadOnlyList<RequestProblem> problems)
    {
        var found = new List<RequestProblem>();
        problems = found;
        if (body.ValueKind != JsonValueKind.Object)
        {
            found.Add(new RequestProblem("The request body must be a JSON object.", null));
            return null;
        }

        ReadUnsupported(body, found);
        var model = ReadString(body, "model", found) ?? DefaultModel;
        if (model.Length == 0)
        {
            found.Add(new RequestProblem("'model' must not be empty; GET /v1/models lists the models.", "model"));
        }

        var turns = ReadMessages(body, found);
        var stream = ReadBool(body, "stream", found) ?? false;
        var includeUsage = false;
        if (body.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                found.Add(new RequestProblem("'stream_options' must be an object.", "stream_options"));
            }
            else
            {
                includeUsage = ReadBool(streamOptions, "include_usage", found, "stream_options.include_usage") ?? false;
            }
        }

        ReadSingleTextAnswer(body, found);
        var options = ReadRouting(body, model, found, out var expertId);
        var maxTokens = ReadInteger(body, "max_completion_tokens", found) ?? ReadInteger(body, "max_tokens", found);
        var sampling = ReadSampling(body, options.Sampling, found);

        options = options with
        {
            Sampling = sampling,
            MaxTokens = maxTokens ?? options.MaxTokens,
            Stop = ReadStop(body, found) ?? options.Stop,
            LatencyBudgetMs = ReadNumber(body, "budget_ms", found) ?? options.LatencyBudgetMs,
            EnergyBudgetJoules = ReadNumber(body, "budget_j", found) ?? options.EnergyBudgetJoules,
        };

        if (found.Count > 0 || turns is null)
        {
            return null;
        }

        var query = new Query { Messages = turns, Options = options };
        foreach (var problem in query.Validate())
        {
            found.Add(new RequestProblem(Capitalise(problem) + ".", ParamOf(problem)));
        }

        return found.Count > 0 ? null : new ChatCompletionRequest(model, query, stream, includeUsage, expertId);
    }

    /// <summary>Features MoeMesh does not have are refused, not ignored.</summary>
    private static void ReadUnsupported(JsonElement body, List<RequestProblem> found)
    {
        foreach (var name in Unsupported)
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                found.Add(new RequestProblem($"'{name}' is not supported: MoeMesh experts answer in text and do not call tools or produce audio.", name));
            }
        }
    }

    /// <summary>The mesh writes one text answer: several choices, log probabilities and structured formats are refused.</summary>
    private static void ReadSingleTextAnswer(JsonElement body, List<RequestProblem> found)
    {
        if (ReadInteger(body, "n", found) is { } n && n != 1)
        {
            found.Add(new RequestProblem($"'n' must be 1: the mesh writes one answer per request, got {n}.", "n"));
        }

        if (ReadBool(body, "logprobs", found) == true)
        {
            found.Add(new RequestProblem("'logprobs' is not supported.", "logprobs"));
        }

        if (body.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var formatType) && formatType.ValueKind == JsonValueKind.String && formatType.GetString() != "text")
        {
            found.Add(new RequestProblem($"response_format '{formatType.GetString()}' is not supported; only 'text' is.", "response_format"));
        }
    }

    /// <summary>The strategy or expert the model names, with <c>strategy</c> and <c>k</c> applied.</summary>
    private static QueryOptions ReadRouting(JsonElement body, string model, List<RequestProblem> found, out string? expertId)
    {
        var options = new QueryOptions();
        expertId = null;
        if (model.Length > 0)
        {
            options = ModelIds.Apply(model, options);
            if (!ModelIds.TryParseStrategy(model, out _))
            {
                expertId = model;
            }
        }

        if (ReadString(body, "strategy", found) is { } strategyName)
        {
            var name = strategyName.StartsWith(ModelIds.Prefix + "-", StringComparison.OrdinalIgnoreCase) ? strategyName[(ModelIds.Prefix.Length + 1)..] : strategyName;
            if (!Enum.TryParse<RoutingStrategy>(name, ignoreCase: true, out var strategy) || !Enum.IsDefined(strategy) || int.TryParse(name, CultureInfo.InvariantCulture, out _))
            {
                found.Add(new RequestProblem($"strategy '{strategyName}' is unknown; use one of {string.Join(", ", Enum.GetNames<RoutingStrategy>().Select(s => s.ToLowerInvariant()))}.", "strategy"));
            }
            else if (expertId is not null)
            {
                found.Add(new RequestProblem($"'strategy' cannot be combined with the expert model '{expertId}'; use the model '{ModelIds.ForStrategy(strategy)}' instead.", "strategy"));
            }
            else
            {
                options = options with { Strategy = strategy };
            }
        }

        if (ReadInteger(body, "k", found) is { } k)
        {
            if (expertId is not null && k != 1)
            {
                found.Add(new RequestProblem($"'k' must be 1 (or left out) with the expert model '{expertId}', which is a single expert; use a strategy model such as 'moemesh' to run several.", "k"));
            }
            else
            {
                options = options with { K = k };
            }
        }

        return options;
    }

    /// <summary><paramref name="sampling"/> with the request's temperature, top-p, top-k, frequency penalty and seed.</summary>
    private static SamplingOptions ReadSampling(JsonElement body, SamplingOptions sampling, List<RequestProblem> found)
    {
        var temperature = ReadNumber(body, "temperature", found);
        var topP = ReadNumber(body, "top_p", found);
        var topK = ReadInteger(body, "top_k", found);
        var frequencyPenalty = ReadNumber(body, "frequency_penalty", found);
        if (temperature is { } t)
        {
            sampling = sampling with { Temperature = (float)t };
        }

        if (topP is { } p)
        {
            sampling = sampling with { TopP = (float)p };
        }

        if (topK is { } tk)
        {
            sampling = sampling with { TopK = tk };
        }

        if (frequencyPenalty is { } f)
        {
            if (f is < -2 or > 2)
            {
                found.Add(new RequestProblem($"'frequency_penalty' must be between -2 and 2, got {f.ToString(CultureInfo.InvariantCulture)}.", "frequency_penalty"));
            }

            // Repetition penalty: 1 is off; a positive frequency penalty raises it.
            sampling = sampling with { RepetitionPenalty = 1 + (float)Math.Max(0, f) };
        }

        if (body.TryGetProperty("seed", out var seedValue) && seedValue.ValueKind != JsonValueKind.Null)
        {
            if (seedValue.ValueKind != JsonValueKind.Number || !seedValue.TryGetInt64(out var seed) || seed < 0 || seed > uint.MaxValue)
            {
                found.Add(new RequestProblem($"'seed' must be an integer from 0 to {uint.MaxValue}.", "seed"));
            }
            else
            {
                sampling = sampling with { Seed = (uint)seed };
            }
        }

        return sampling;
    }

    /// <summary>The request field a <see cref="Query.Validate"/> message is about.</summary>
    private static string? ParamOf(string problem) => problem switch
    {
        _ when problem.StartsWith("latency budget", StringComparison.Ordinal) => "budget_ms",
        _ when problem.StartsWith("energy budget", StringComparison.Ordinal) => "budget_j",
        _ when problem.StartsWith("k must", StringComparison.Ordinal) => "k",
        _ when problem.StartsWith("max tokens", StringComparison.Ordinal) => "max_tokens",
        _ when problem.StartsWith("temperature", StringComparison.Ordinal) => "temperature",
        _ when problem.StartsWith("top-p", StringComparison.Ordinal) => "top_p",
        _ when problem.StartsWith("top-k", StringComparison.Ordinal) => "top_k",
        _ when problem.StartsWith("repetition", StringComparison.Ordinal) => "frequency_penalty",
        _ when problem.StartsWith("stop", StringComparison.Ordinal) => "stop",
        _ when problem.StartsWith("strategy", StringComparison.Ordinal) => "strategy",
        _ when problem.Contains("prompt", StringComparison.Ordinal) || problem.Contains("no text", StringComparison.Ordinal) => "messages",
        _ => null,
    };

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
