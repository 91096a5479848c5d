using System.Globalization;

namespace MoeMesh.Grains.Energy;

/// <summary>Reads numbers from sysfs files.</summary>
internal static class SysfsFile
{
    public static long ReadLong(string path)
    {
        var text = File.ReadAllText(path).Trim();
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{path} holds '{text}', not an integer.");
    }

    public static bool TryReadLong(string path, out long value)
    {
        value = 0;
        try
        {
            value = ReadLong(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    public static string? TryReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
