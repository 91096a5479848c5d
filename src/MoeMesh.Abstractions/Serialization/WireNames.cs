using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeMesh.Serialization;

/// <summary>
/// The names enums are written with in JSON and text reports, so JSON and text read the same: see
/// <see cref="WireNames{TEnum}"/>.
/// </summary>
public static class WireNames
{
    /// <summary>The name of <paramref name="value"/> in JSON and reports ("best-weighted", "latency and energy", "ina3221").</summary>
    public static string ToWireName<TEnum>(this TEnum value)
        where TEnum : struct, Enum
        => WireNames<TEnum>.NameOf(value);

    /// <summary>The member whose name is <paramref name="name"/> (case-insensitive), if any.</summary>
    public static bool TryParse<TEnum>(string? name, out TEnum value)
        where TEnum : struct, Enum
        => WireNames<TEnum>.TryParse(name, out value);
}

/// <summary>
/// The wire names of one enum's members, built once: each member's <see cref="JsonStringEnumMemberNameAttribute"/>,
/// or else its name in camelCase as <see cref="MoeMeshJson"/> writes it. Not for <see cref="FlagsAttribute"/> enums.
/// </summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public static class WireNames<TEnum>
    where TEnum : struct, Enum
{
    private static readonly FrozenDictionary<TEnum, string> ByValue = typeof(TEnum)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .ToFrozenDictionary(
            f => (TEnum)f.GetValue(null)!,
            f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(f.Name));

    private static readonly FrozenDictionary<string, TEnum> ByName = ByValue.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every member's name, in the order the members' values sort.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. ByValue.OrderBy(p => p.Key).Select(p => p.Value)];

    /// <summary>The name of <paramref name="value"/>; an undefined value is written as its number.</summary>
    public static string NameOf(TEnum value) => ByValue.TryGetValue(value, out var name) ? name : value.ToString();

    /// <summary>The member whose name is <paramref name="name"/> (case-insensitive), if any.</summary>
    public static bool TryParse(string? name, out TEnum value)
    {
        value = default;
        return name is not null && ByName.TryGetValue(name, out value);
    }

    /// <summary>The member whose name is <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="FormatException"><paramref name="name"/> names no member; the message lists those that exist.</exception>
    public static TEnum Parse(string? name)
        => TryParse(name, out var value)
            ? value
            : throw new FormatException($"'{name}' is not a {typeof(TEnum).Name}; expected one of: {string.Join(", ", Names.Select(n => $"'{n}'"))}.");
}
