namespace MoeMesh.Experts;

/// <summary>Bits per weight of common model quantisations, for memory and bandwidth estimates.</summary>
public static class Quantization
{
    private static readonly Dictionary<string, double> BitsPerWeightByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["F32"] = 32,
        ["F16"] = 16,
        ["BF16"] = 16,
        ["Q8_0"] = 8.5,
        ["Q6_K"] = 6.56,
        ["Q5_K_M"] = 5.69,
        ["Q5_K_S"] = 5.54,
        ["Q5_0"] = 5.5,
        ["Q4_K_M"] = 4.85,
        ["Q4_K_S"] = 4.58,
        ["Q4_0"] = 4.5,
        ["IQ4_XS"] = 4.25,
        ["Q3_K_M"] = 3.91,
        ["Q2_K"] = 2.96,
        ["INT8"] = 8,
        ["INT4"] = 4,
    };

    /// <summary>The quantisation names MoeMesh knows.</summary>
    public static IReadOnlyCollection<string> Known => BitsPerWeightByName.Keys;

    /// <summary>Bits per weight for <paramref name="name"/>; false when the name is unknown.</summary>
    public static bool TryGetBitsPerWeight(string? name, out double bitsPerWeight)
    {
        if (name is not null && BitsPerWeightByName.TryGetValue(name, out bitsPerWeight))
        {
            return true;
        }

        bitsPerWeight = 0;
        return false;
    }

    /// <summary>Bits per weight for <paramref name="name"/>; throws with the known names when unknown.</summary>
    public static double BitsPerWeight(string name)
        => TryGetBitsPerWeight(name, out var bits)
            ? bits
            : throw new ArgumentException($"Unknown quantisation '{name}'. Known: {string.Join(", ", Known)}.", nameof(name));
}
