using System.Text;

namespace MoeMesh.Inference.Gguf;

/// <summary>
/// Reads and validates the header of a GGUF file (versions 2 and 3): magic, version, metadata,
/// tensor descriptions and alignment. Every count, length and offset is checked against the file
/// size and <see cref="GgufReadLimits"/> before it is used, so a truncated or corrupt file yields a
/// <see cref="GgufFormatException"/> naming the field and offset, never a crash or a huge allocation.
/// Tensor data is not read.
/// </summary>
public static class GgufReader
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Oldest supported version (version 1 used 32-bit counts and is obsolete).</summary>
    public const uint MinVersion = 2;

    /// <summary>Newest supported version.</summary>
    public const uint MaxVersion = 3;

    // Smallest encodings, used to bound counts by the bytes left in the file.
    private const int MinKeyValueBytes = 8 + 1 + 4 + 1;
    private const int MinTensorInfoBytes = 8 + 1 + 4 + 4 + 8;

    /// <summary>Reads the header of the file at <paramref name="path"/>.</summary>
    public static GgufFile Read(string path, GgufReadLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Read(stream, limits);
    }

    /// <summary>Reads a header from a seekable <paramref name="stream"/> positioned at the start of the file.</summary>
    public static GgufFile Read(Stream stream, GgufReadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("The GGUF reader needs a seekable stream to check offsets against the file size.", nameof(stream));
        }

        var cursor = new GgufByteCursor(stream, limits ?? GgufReadLimits.Default);
        try
        {
            return ReadFile(cursor);
        }
        catch (EndOfStreamException e)
        {
            throw new GgufFormatException("The file became shorter while it was being read", e);
        }
    }

    private static GgufFile ReadFile(GgufByteCursor cursor)
    {
        if (cursor.Length < 4)
        {
            throw cursor.Error($"The file is {cursor.Length} bytes, too short to be a GGUF file", 0, "header.magic");
        }

        var magic = cursor.ReadUInt32("header.magic");
        if (magic != Magic)
        {
            var bytes = BitConverter.GetBytes(magic);
            var shown = string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}"));
            throw cursor.Error($"Not a GGUF file: the magic is \"{shown}\", expected \"GGUF\"", 0, "header.magic");
        }

        var version = cursor.ReadUInt32("header.version");
        if (version is < MinVersion or > MaxVersion)
        {
            var hint = version == 1
                ? "GGUF version 1 is obsolete; convert the model again with a current llama.cpp"
                : version > 0xFFFF ? "the version looks byte-swapped (a big-endian file?)" : $"only versions {MinVersion} and {MaxVersion} are supported";
            throw cursor.Error($"Unsupported GGUF version {version}: {hint}", 4, "header.version");
        }

        var tensorCount = cursor.ReadCount("header.tensor_count", cursor.Limits.MaxTensorCount, MinTensorInfoBytes, "tensors");
        var metadataCount = cursor.ReadCount("header.metadata_kv_count", cursor.Limits.MaxMetadataCount, MinKeyValueBytes, "metadata entries");

        var metadata = ReadMetadata(cursor, metadataCount);
        var alignment = ReadAlignment(cursor, metadata);

        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 4096));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            tensors.Add(ReadTensorInfo(cursor, i, alignment, names));
        }

        var headerEnd = cursor.Position;
        var dataOffset = AlignUp(headerEnd, alignment);
        var dataBytes = cursor.Length - dataOffset;
        if (tensorCount > 0 && dataBytes < 0)
        {
            throw cursor.Error($"The file ends at byte {cursor.Length}, before its data section at byte {dataOffset}", headerEnd, "data");
        }

        ValidateTensorPlacement(cursor, tensors, dataOffset, Math.Max(0, dataBytes));
        return new GgufFile(version, metadata, tensors, alignment, cursor.Start + dataOffset, cursor.Start + cursor.Length);
    }

    private static List<KeyValuePair<string, GgufValue>> ReadMetadata(GgufByteCursor cursor, long count)
    {
        var metadata = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(count, 1024));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            var keyOffset = cursor.Position;
            var key = cursor.ReadString($"metadata[{i}].key");
            if (key.Length == 0)
            {
                throw cursor.Error($"Metadata entry {i} has an empty key", keyOffset, $"metadata[{i}].key");
            }

            if (!keys.Add(key))
            {
                throw cursor.Error($"Metadata key '{key}' appears twice", keyOffset, $"metadata[{i}].key");
            }

            var typeOffset = cursor.Position;
            var type = cursor.ReadValueType($"metadata['{key}'].type", typeOffset);
            var value = GgufValueReader.Read(cursor, type, $"metadata['{key}']", depth: 0);
            metadata.Add(new(key, value));
        }

        return metadata;
    }

    private static int ReadAlignment(GgufByteCursor cursor, List<KeyValuePair<string, GgufValue>> metadata)
    {
        var alignment = GgufFile.DefaultAlignment;
        var entry = metadata.Find(kv => kv.Key == "general.alignment");
        if (entry.Key is not null)
        {
            var value = entry.Value;
            if (value.Type != GgufValueType.UInt32)
            {
                throw cursor.Error($"'general.alignment' must be a UInt32, got {value.Type}", 0, "general.alignment");
            }

            var requested = (uint)value.RawValue;
            if (requested == 0 || (requested & (requested - 1)) != 0 || requested > 1 << 20)
            {
                throw cursor.Error($"'general.alignment' is {requested}; it must be a power of two no larger than 1 MiB", 0, "general.alignment");
            }

            alignment = (int)requested;
        }

        return alignment;
    }

    private static GgufTensorInfo ReadTensorInfo(GgufByteCursor cursor, long index, int alignment, HashSet<string> names)
    {
        var field = $"tensor[{index}]";
        var nameOffset = cursor.Position;
        var name = cursor.ReadString($"{field}.name");
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > cursor.Limits.MaxTensorNameBytes)
        {
            throw cursor.Error($"Tensor {index} has a name of {Encoding.UTF8.GetByteCount(name)} bytes; names must have 1 to {cursor.Limits.MaxTensorNameBytes}", nameOffset, $"{field}.name");
        }

        if (!names.Add(name))
        {
            throw cursor.Error($"Tensor name '{name}' appears twice", nameOffset, $"{field}.name");
        }

        field = $"tensor '{name}'";
        var dimensionsOffset = cursor.Position;
        var dimensions = cursor.ReadUInt32($"{field}.n_dims");
        if (dimensions == 0 || dimensions > cursor.Limits.MaxTensorDimensions)
        {
            throw cursor.Error($"Tensor '{name}' has {dimensions} dimensions; 1 to {cursor.Limits.MaxTensorDimensions} are allowed", dimensionsOffset, $"{field}.n_dims");
        }

        var shape = new long[dimensions];
        long elements = 1;
        for (var d = 0; d < dimensions; d++)
        {
            var dimensionOffset = cursor.Position;
            var size = cursor.ReadUInt64($"{field}.ne[{d}]");
            if (size > long.MaxValue || (size > 0 && elements > long.MaxValue / (long)size))
            {
                throw cursor.Error($"Tensor '{name}' has an absurd shape: dimension {d} is {size} elements", dimensionOffset, $"{field}.ne[{d}]");
            }

            shape[d] = (long)size;
            elements *= (long)size;
        }

        var typeOffset = cursor.Position;
        var rawType = cursor.ReadUInt32($"{field}.type");
        var type = (GgmlType)rawType;
        if (!GgmlTypeTraits.TryGetBlock(type, out var blockSize, out _))
        {
            throw cursor.Error($"Tensor '{name}' has unknown element type {rawType}", typeOffset, $"{field}.type");
        }

        if (shape[0] % blockSize != 0)
        {
            throw cursor.Error($"Tensor '{name}' of type {type} has rows of {shape[0]} elements, not a multiple of its block size {blockSize}", typeOffset, $"{field}.type");
        }

        var byteSize = GgmlTypeTraits.ByteSize(type, elements)
            ?? throw cursor.Error($"Tensor '{name}' is too large to address", typeOffset, $"{field}.type");

        var offsetOffset = cursor.Position;
        var offset = cursor.ReadUInt64($"{field}.offset");
        if (offset > long.MaxValue || offset % (ulong)alignment != 0)
        {
            throw cursor.Error($"Tensor '{name}' has data offset {offset}, which is not a multiple of the alignment {alignment}", offsetOffset, $"{field}.offset");
        }

        return new GgufTensorInfo(name, shape, type, (long)offset, byteSize);
    }

    private static void ValidateTensorPlacement(GgufByteCursor cursor, List<GgufTensorInfo> tensors, long dataOffset, long dataBytes)
    {
        GgufTensorInfo? previous = null;
        foreach (var tensor in tensors.OrderBy(t => t.Offset))
        {
            if (tensor.Offset > dataBytes || tensor.ByteSize > dataBytes - tensor.Offset)
            {
                throw cursor.Error(
                    $"Tensor '{tensor.Name}' needs bytes {tensor.Offset}..{tensor.Offset + tensor.ByteSize} of the data section, " +
                    $"but the file holds only {dataBytes} bytes of data (truncated file?)",
                    dataOffset + Math.Min(tensor.Offset, dataBytes),
                    $"tensor '{tensor.Name}'.offset");
            }

            if (previous is not null && tensor.Offset < previous.Offset + previous.ByteSize)
            {
                throw cursor.Error($"Tensors '{previous.Name}' and '{tensor.Name}' overlap in the data section", dataOffset + tensor.Offset, $"tensor '{tensor.Name}'.offset");
            }

            previous = tensor;
        }
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
