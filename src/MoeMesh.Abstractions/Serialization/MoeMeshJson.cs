using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeMesh.Serialization;

/// <summary>
/// The JSON conventions of MoeMesh files (manifests, device profiles) and <c>--json</c> outputs:
/// camelCase names, enums as strings, comments and trailing commas tolerated on read.
/// </summary>
public static class MoeMeshJson
{
    /// <summary>Options for reading and writing MoeMesh JSON.</summary>
    public static JsonSerializerOptions Options { get; } = Create(indented: true);

    /// <summary>Compact options for wire and log output.</summary>
    public static JsonSerializerOptions Compact { get; } = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = indented,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,

            // Files and terminals, not HTML: keep text readable ("é", "+", "<") instead of \u escapes.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
