using System.Text.Json;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Common;

/// <summary>The JSON shape of every <c>--json</c> output: the MoeMesh conventions (camelCase, enums as strings, indented).</summary>
public static class CliJson
{
    public static JsonSerializerOptions Options => MoeMeshJson.Options;

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
