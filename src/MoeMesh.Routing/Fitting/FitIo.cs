namespace MoeMesh.Routing;

/// <summary>Length-prefixed arrays for fit files; every count is checked before anything is allocated.</summary>
internal static class FitIo
{
    private const int MaxItems = 64 * 1024 * 1024;

    public static void WriteStrings(BinaryWriter writer, IReadOnlyList<string> values)
    {
        writer.Write(values.Count);
        foreach (var value in values)
        {
            writer.Write(value);
        }
    }

    public static string[] ReadStrings(BinaryReader reader)
    {
        var values = new string[ReadCount(reader, 1_000_000)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadString();
        }

        return values;
    }

    /// <summary>Writes a length-prefixed array of plain numbers (floats, doubles, ints) as raw bytes.</summary>
    public static void WriteArray<T>(BinaryWriter writer, T[] values)
        where T : unmanaged
    {
        writer.Write(values.Length);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>Reads what <see cref="WriteArray{T}"/> wrote; the count is checked before allocating.</summary>
    public static T[] ReadArray<T>(BinaryReader reader)
        where T : unmanaged
    {
        var values = new T[ReadCount(reader, MaxItems)];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    public static int ReadCount(BinaryReader reader, int max)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > max)
        {
            throw new InvalidDataException($"a count of {count} is out of range (0 to {max})");
        }

        if (reader.BaseStream.CanSeek && count > reader.BaseStream.Length - reader.BaseStream.Position)
        {
            throw new InvalidDataException($"a count of {count} runs past the end of the file");
        }

        return count;
    }
}
