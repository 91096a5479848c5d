using System.Globalization;

namespace MoeMesh.Cli.Common;

/// <summary>Human-readable quantities.</summary>
public static class Units
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    public static string Ms(double ms) => ms >= 10_000
        ? string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:0.#} s")
        : string.Create(CultureInfo.InvariantCulture, $"{ms:0.#} ms");

    public static string Joules(double j) => string.Create(CultureInfo.InvariantCulture, $"{j:0.###} J");
}
