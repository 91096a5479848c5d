using System.Reflection;
using System.Text.Json.Serialization;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Serialization;

/// <summary>
/// The names enums are written with in JSON and text reports: each member's
/// <see cref="JsonStringEnumMemberNameAttribute"/>, so JSON and text read the same.
/// </summary>
public static class WireNames
{
    /// <summary>The name of <paramref name="value"/> in JSON and reports ("latency and energy").</summary>
    public static string ToWireName(this BindingBudget value) => Names<BindingBudget>.Of(value);

    /// <summary>The name of <paramref name="value"/> in JSON and reports ("best-weighted").</summary>
    public static string ToWireName(this AnswerCombination value) => Names<AnswerCombination>.Of(value);

    /// <summary>The name of <paramref name="value"/> in JSON and reports ("ina3221").</summary>
    public static string ToWireName(this MeterKind value) => Names<MeterKind>.Of(value);

    /// <summary>The member whose name is <paramref name="name"/> (case-insensitive), if any.</summary>
    public static bool TryParse<T>(string? name, out T value)
        where T : struct, Enum
        => Names<T>.TryParse(name, out value);

    private static class Names<T>
        where T : struct, Enum
    {
        private static readonly Dictionary<T, string> ByValue = typeof(T)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .ToDictionary(f => (T)f.GetValue(null)!, f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name);

        private static readonly Dictionary<string, T> ByName = ByValue.ToDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

        public static string Of(T value) => ByValue.TryGetValue(value, out var name) ? name : value.ToString();

        public static bool TryParse(string? name, out T value)
        {
            value = default;
            return name is not null && ByName.TryGetValue(name, out value);
        }
    }
}
