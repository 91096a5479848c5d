using System.Text;
using System.Text.Json;
using MoeMesh.Generation;

using static MoeMesh.Dashboard.Api.JsonFields;

namespace MoeMesh.Dashboard.Api;

/// <summary>The messages and stop strings of a chat completion body, as chat turns and stop strings.</summary>
internal static class ChatMessagesReader
{
    public static List<ChatTurn>? ReadMessages(JsonElement body, List<RequestProblem> found)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null)
        {
            found.Add(new RequestProblem("'messages' is required: an array of {\"role\", \"content\"} objects.", "messages"));
            return null;
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            found.Add(new RequestProblem("'messages' must be a non-empty array of {\"role\", \"content\"} objects.", "messages"));
            return null;
        }

        var turns = new List<ChatTurn>();
        var index = 0;
        var before = found.Count;
        foreach (var message in messages.EnumerateArray())
        {
            var at = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                found.Add(new RequestProblem($"'{at}' must be an object with 'role' and 'content'.", at));
                continue;
            }

            var role = ReadString(message, "role", found, $"{at}.role");
            string? turnRole = role switch
            {
                null => null,
                "system" or "developer" => ChatTurn.SystemRole,
                "user" => ChatTurn.UserRole,
                "assistant" => ChatTurn.AssistantRole,
                _ => null,
            };
            if (role is null)
            {
                if (!message.TryGetProperty("role", out _))
                {
                    found.Add(new RequestProblem($"'{at}.role' is required: system, developer, user or assistant.", $"{at}.role"));
                }

                continue;
            }

            if (turnRole is null)
            {
                found.Add(new RequestProblem($"'{at}.role' '{role}' is not supported; use system, developer, user or assistant.", $"{at}.role"));
                continue;
            }

            var content = ReadContent(message, at, turnRole, found);
            if (!string.IsNullOrEmpty(content))
            {
                turns.Add(new ChatTurn(turnRole, content));
            }
        }

        return found.Count > before ? null : turns;
    }

    private static string? ReadContent(JsonElement message, string at, string role, List<RequestProblem> found)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            if (role != ChatTurn.AssistantRole)
            {
                found.Add(new RequestProblem($"'{at}.content' is required.", $"{at}.content"));
            }

            return null;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            found.Add(new RequestProblem($"'{at}.content' must be a string or an array of text parts.", $"{at}.content"));
            return null;
        }

        var text = new StringBuilder();
        var part = 0;
        foreach (var item in content.EnumerateArray())
        {
            var partAt = $"{at}.content[{part++}]";
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                found.Add(new RequestProblem($"'{partAt}' must be an object such as {{\"type\": \"text\", \"text\": \"…\"}}.", partAt));
                continue;
            }

            if (type.GetString() != "text")
            {
                found.Add(new RequestProblem($"'{partAt}' has type '{type.GetString()}'; only text parts are supported.", partAt));
                continue;
            }

            if (!item.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                found.Add(new RequestProblem($"'{partAt}.text' must be a string.", $"{partAt}.text"));
                continue;
            }

            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(partText.GetString());
        }

        return text.ToString();
    }

    public static List<string>? ReadStop(JsonElement body, List<RequestProblem> found)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            return [stop.GetString()!];
        }

        if (stop.ValueKind == JsonValueKind.Array && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String))
        {
            return stop.EnumerateArray().Select(s => s.GetString()!).ToList();
        }

        found.Add(new RequestProblem("'stop' must be a string or an array of strings.", "stop"));
        return null;
    }
}
