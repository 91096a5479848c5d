using System.Text.Json;

namespace MoeMesh.Dashboard.Api;

/// <summary>Typed fields of a JSON request body, each wrong type reported under the field's name.</summary>
internal static class JsonFields
{
    public static string? ReadString(JsonElement body, string name, List<RequestProblem> found, string? param = null)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            found.Add(new RequestProblem($"'{param ?? name}' must be a string.", param ?? name));
            return null;
        }

        return value.GetString();
    }

    public static bool? ReadBool(JsonElement body, string name, List<RequestProblem> found, string? param = null)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            found.Add(new RequestProblem($"'{param ?? name}' must be true or false.", param ?? name));
            return null;
        }

        return value.GetBoolean();
    }

    public static double? ReadNumber(JsonElement body, string name, List<RequestProblem> found)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            found.Add(new RequestProblem($"'{name}' must be a finite number.", name));
            return null;
        }

        return number;
    }

    public static int? ReadInteger(JsonElement body, string name, List<RequestProblem> found)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            found.Add(new RequestProblem($"'{name}' must be a whole number.", name));
            return null;
        }

        return number;
    }
}
