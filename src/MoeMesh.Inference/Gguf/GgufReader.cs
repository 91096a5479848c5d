using System.Buffers.Binary;
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

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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

        var cursor = new Cursor(stream, limits ?? GgufReadLimits.Default);
        try
        {
            return cursor.ReadFile();
        }
        catch (EndOfStreamException e)
        {
            throw new GgufFormatException("The file became shorter while it was being read", e);
        }
    }

    private sealed class Cursor(Stream stream, GgufReadLimits limits)
    {
        private const int BufferSize = 64 * 1024;

        // Smallest encodings, used to bound counts by the bytes left in the file.
        private const int MinKeyValueBytes = 8 + 1 + 4 + 1;
        private const int MinTensorInfoBytes = 8 + 1 + 4 + 4 + 8;

        private readonly byte[] buffer = new byte[BufferSize];
        private readonly long start = stream.Position;
        private readonly long length = stream.Length - stream.Position;
        private int bufferStart;
        private int bufferEnd;
        private long bufferFileOffset;

        private long Position => bufferFileOffset + bufferStart;

        private long Remaining => length - Position;

        public GgufFile ReadFile()
        {
            if (length < 4)
            {
                throw Error($"The file is {length} bytes, too short to be a GGUF file", 0, "header.magic");
            }

            var magic = ReadUInt32("header.magic");
            if (magic != Magic)
            {
                var bytes = BitConverter.GetBytes(magic);
                var shown = string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}"));
                throw Error($"Not a GGUF file: the magic is \"{shown}\", expected \"GGUF\"", 0, "header.magic");
            }

            var version = ReadUInt32("header.version");
            if (version is < MinVersion or > MaxVersion)
            {
                var hint = version == 1
                    ? "GGUF version 1 is obsolete; convert the model again with a current llama.cpp"
                    : version > 0xFFFF ? "the version looks byte-swapped (a big-endian file?)" : $"only versions {MinVersion} and {MaxVersion} are supported";
                throw Error($"Unsupported GGUF version {version}: {hint}", 4, "header.version");
            }

            var tensorCount = ReadCount("header.tensor_count", limits.MaxTensorCount, MinTensorInfoBytes, "tensors");
            var metadataCount = ReadCount("header.metadata_kv_count", limits.MaxMetadataCount, MinKeyValueBytes, "metadata entries");

            var metadata = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(metadataCount, 1024));
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (long i = 0; i < metadataCount; i++)
            {
                var keyOffset = Position;
                var key = ReadString($"metadata[{i}].key");
                if (key.Length == 0)
                {
                    throw Error($"Metadata entry {i} has an empty key", keyOffset, $"metadata[{i}].key");
                }

                if (!keys.Add(key))
                {
                    throw Error($"Metadata key '{key}' appears twice", keyOffset, $"metadata[{i}].key");
                }

                var typeOffset = Position;
                var type = ReadValueType($"metadata['{key}'].type", typeOffset);
                var value = ReadValue(type, $"metadata['{key}']", depth: 0);
                metadata.Add(new(key, value));
            }

            var alignment = GgufFile.DefaultAlignment;
            if (keys.Contains("general.alignment"))
            {
                var value = metadata.First(kv => kv.Key == "general.alignment").Value;
                if (value.Type != GgufValueType.UInt32)
                {
                    throw Error($"'general.alignment' must be a UInt32, got {value.Type}", 0, "general.alignment");
                }

                var requested = (uint)value.RawValue;
                if (requested == 0 || (requested & (requested - 1)) != 0 || requested > 1 << 20)
                {
                    throw Error($"'general.alignment' is {requested}; it must be a power of two no larger than 1 MiB", 0, "general.alignment");
                }

                alignment = (int)requested;
            }

            var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 4096));
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (long i = 0; i < tensorCount; i++)
            {
                tensors.Add(ReadTensorInfo(i, alignment, names));
            }

            var headerEnd = Position;
            var dataOffset = AlignUp(headerEnd, alignment);
            var dataBytes = length - dataOffset;
            if (tensorCount > 0 && dataBytes < 0)
            {
                throw Error($"The file ends at byte {length}, before its data section at byte {dataOffset}", headerEnd, "data");
            }

            ValidateTensorPlacement(tensors, dataOffset, Math.Max(0, dataBytes));
            return new GgufFile(version, metadata, tensors, alignment, start + dataOffset, start + length);
        }

        private GgufTensorInfo ReadTensorInfo(long index, int alignment, HashSet<string> names)
        {
            var field = $"tensor[{index}]";
            var nameOffset = Position;
            var name = ReadString($"{field}.name");
            if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > limits.MaxTensorNameBytes)
            {
                throw Error($"Tensor {index} has a name of {Encoding.UTF8.GetByteCount(name)} bytes; names must have 1 to {limits.MaxTensorNameBytes}", nameOffset, $"{field}.name");
            }

            if (!names.Add(name))
            {
                throw Error($"Tensor name '{name}' appears twice", nameOffset, $"{field}.name");
            }

            field = $"tensor '{name}'";
            var dimensionsOffset = Position;
            var dimensions = ReadUInt32($"{field}.n_dims");
            if (dimensions == 0 || dimensions > limits.MaxTensorDimensions)
            {
                throw Error($"Tensor '{name}' has {dimensions} dimensions; 1 to {limits.MaxTensorDimensions} are allowed", dimensionsOffset, $"{field}.n_dims");
            }

            var shape = new long[dimensions];
            long elements = 1;
            for (var d = 0; d < dimensions; d++)
            {
                var dimensionOffset = Position;
                var size = ReadUInt64($"{field}.ne[{d}]");
                if (size > long.MaxValue || (size > 0 && elements > long.MaxValue / (long)size))
                {
                    throw Error($"Tensor '{name}' has an absurd shape: dimension {d} is {size} elements", dimensionOffset, $"{field}.ne[{d}]");
                }

                shape[d] = (long)size;
                elements *= (long)size;
            }

            var typeOffset = Position;
            var rawType = ReadUInt32($"{field}.type");
            var type = (GgmlType)rawType;
            if (!GgmlTypeTraits.TryGetBlock(type, out var blockSize, out _))
            {
                throw Error($"Tensor '{name}' has unknown element type {rawType}", typeOffset, $"{field}.type");
            }

            if (shape[0] % blockSize != 0)
            {
                throw Error($"Tensor '{name}' of type {type} has rows of {shape[0]} elements, not a multiple of its block size {blockSize}", typeOffset, $"{field}.type");
            }

            var byteSize = GgmlTypeTraits.ByteSize(type, elements)
                ?? throw Error($"Tensor '{name}' is too large to address", typeOffset, $"{field}.type");

            var offsetOffset = Position;
            var offset = ReadUInt64($"{field}.offset");
            if (offset > long.MaxValue || offset % (ulong)alignment != 0)
            {
                throw Error($"Tensor '{name}' has data offset {offset}, which is not a multiple of the alignment {alignment}", offsetOffset, $"{field}.offset");
            }

            return new GgufTensorInfo(name, shape, type, (long)offset, byteSize);
        }

        private void ValidateTensorPlacement(List<GgufTensorInfo> tensors, long dataOffset, long dataBytes)
        {
            GgufTensorInfo? previous = null;
            foreach (var tensor in tensors.OrderBy(t => t.Offset))
            {
                if (tensor.Offset > dataBytes || tensor.ByteSize > dataBytes - tensor.Offset)
                {
                    throw Error(
                        $"Tensor '{tensor.Name}' needs bytes {tensor.Offset}..{tensor.Offset + tensor.ByteSize} of the data section, " +
                        $"but the file holds only {dataBytes} bytes of data (truncated file?)",
                        dataOffset + Math.Min(tensor.Offset, dataBytes),
                        $"tensor '{tensor.Name}'.offset");
                }

                if (previous is not null && tensor.Offset < previous.Offset + previous.ByteSize)
                {
                    throw Error($"Tensors '{previous.Name}' and '{tensor.Name}' overlap in the data section", dataOffset + tensor.Offset, $"tensor '{tensor.Name}'.offset");
                }

                previous = tensor;
            }
        }

        private GgufValue ReadValue(GgufValueType type, string field, int depth)
        {
            switch (type)
            {
                case GgufValueType.UInt8: return GgufValue.FromUInt8(ReadBytes(1, field)[0]);
                case GgufValueType.Int8: return GgufValue.FromInt8((sbyte)ReadBytes(1, field)[0]);
                case GgufValueType.UInt16: return GgufValue.FromUInt16(BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, field)));
                case GgufValueType.Int16: return GgufValue.FromInt16(BinaryPrimitives.ReadInt16LittleEndian(ReadBytes(2, field)));
                case GgufValueType.UInt32: return GgufValue.FromUInt32(ReadUInt32(field));
                case GgufValueType.Int32: return GgufValue.FromInt32(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, field)));
                case GgufValueType.Float32: return GgufValue.FromFloat32(BinaryPrimitives.ReadSingleLittleEndian(ReadBytes(4, field)));
                case GgufValueType.Bool: return GgufValue.FromBool(ReadBool(field));
                case GgufValueType.String: return GgufValue.FromString(ReadString(field));
                case GgufValueType.UInt64: return GgufValue.FromUInt64(ReadUInt64(field));
                case GgufValueType.Int64: return GgufValue.FromInt64(BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8, field)));
                case GgufValueType.Float64: return GgufValue.FromFloat64(BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8, field)));
                case GgufValueType.Array: return ReadArray(field, depth);
                default: throw new InvalidOperationException($"Unhandled GGUF type {type}.");
            }
        }

        private GgufValue ReadArray(string field, int depth)
        {
            if (depth >= limits.MaxArrayDepth)
            {
                throw Error($"Arrays are nested deeper than {limits.MaxArrayDepth} levels", Position, field);
            }

            var elementType = ReadValueType($"{field}.element_type", Position);
            var minElementBytes = elementType switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
                _ => 12,
            };
            var count = (int)ReadCount($"{field}.length", limits.MaxArrayLength, minElementBytes, "array elements");
            var fixedSize = elementType is not (GgufValueType.String or GgufValueType.Array or GgufValueType.Bool);
            if (fixedSize)
            {
                // Read the whole block at once: large float/int arrays (scores, token types) are common.
                var bytes = ReadBytes(checked(count * minElementBytes), field).ToArray();
                Array typed = elementType switch
                {
                    GgufValueType.UInt8 => bytes,
                    GgufValueType.Int8 => Cast<sbyte>(bytes, count),
                    GgufValueType.UInt16 => Cast<ushort>(bytes, count),
                    GgufValueType.Int16 => Cast<short>(bytes, count),
                    GgufValueType.UInt32 => Cast<uint>(bytes, count),
                    GgufValueType.Int32 => Cast<int>(bytes, count),
                    GgufValueType.Float32 => Cast<float>(bytes, count),
                    GgufValueType.UInt64 => Cast<ulong>(bytes, count),
                    GgufValueType.Int64 => Cast<long>(bytes, count),
                    GgufValueType.Float64 => Cast<double>(bytes, count),
                    _ => throw new InvalidOperationException(),
                };
                return GgufValue.FromArray(elementType, typed);
            }

            switch (elementType)
            {
                case GgufValueType.Bool:
                {
                    var items = new bool[count];
                    for (var i = 0; i < count; i++)
                    {
                        items[i] = ReadBool(field);
                    }

                    return GgufValue.FromArray(GgufValueType.Bool, items);
                }

                case GgufValueType.String:
                {
                    var items = new string[count];
                    for (var i = 0; i < count; i++)
                    {
                        items[i] = ReadString(field);
                    }

                    return GgufValue.FromArray(items);
                }

                default:
                {
                    var items = new GgufValue[count];
                    for (var i = 0; i < count; i++)
                    {
                        items[i] = ReadArray($"{field}[{i}]", depth + 1);
                    }

                    return GgufValue.FromArray(GgufValueType.Array, items);
                }
            }
        }

        private static T[] Cast<T>(byte[] bytes, int count)
            where T : unmanaged
        {
            var items = new T[count];
            var source = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes);
            if (BitConverter.IsLittleEndian)
            {
                source.CopyTo(items);
            }
            else
            {
                throw new PlatformNotSupportedException("The GGUF reader supports little-endian machines only.");
            }

            return items;
        }

        private GgufValueType ReadValueType(string field, long offset)
        {
            var raw = ReadUInt32(field);
            if (raw > (uint)GgufValueType.Float64)
            {
                throw Error($"Unknown GGUF value type {raw}", offset, field);
            }

            return (GgufValueType)raw;
        }

        private long ReadCount(string field, long limit, int minBytesEach, string what)
        {
            var offset = Position;
            var count = ReadUInt64(field);
            var fits = Remaining / minBytesEach;
            if (count > (ulong)limit || count > (ulong)fits)
            {
                throw Error(
                    $"The file declares {count} {what}; at most {Math.Min(limit, fits)} are possible here (limit {limit}, {Remaining} bytes left)",
                    offset,
                    field);
            }

            return (long)count;
        }

        private bool ReadBool(string field)
        {
            var offset = Position;
            var b = ReadBytes(1, field)[0];
            return b switch
            {
                0 => false,
                1 => true,
                _ => throw Error($"Boolean value is {b}; it must be 0 or 1", offset, field),
            };
        }

        private string ReadString(string field)
        {
            var offset = Position;
            var size = ReadUInt64(field);
            if (size > (ulong)limits.MaxStringBytes || size > (ulong)Remaining)
            {
                throw Error($"String of {size} bytes does not fit (limit {limits.MaxStringBytes}, {Remaining} bytes left)", offset, field);
            }

            if (size == 0)
            {
                return "";
            }

            var bytes = ReadBytes((int)size, field);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException e)
            {
                throw new GgufFormatException($"String is not valid UTF-8: {e.Message}", start + offset, field);
            }
        }

        private uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, field));

        private ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8, field));

        private ReadOnlySpan<byte> ReadBytes(int count, string field)
        {
            if (count > Remaining)
            {
                throw Error($"The file ends after {length} bytes, in the middle of this field (truncated file?)", Position, field);
            }

            if (count > BufferSize)
            {
                // Large blocks bypass the buffer.
                var large = new byte[count];
                var copied = bufferEnd - bufferStart;
                buffer.AsSpan(bufferStart, copied).CopyTo(large);
                stream.Position = start + bufferFileOffset + bufferEnd;
                stream.ReadExactly(large, copied, count - copied);
                bufferFileOffset += bufferEnd + (count - copied);
                bufferStart = bufferEnd = 0;
                return large;
            }

            if (bufferEnd - bufferStart < count)
            {
                Fill(count);
            }

            var span = buffer.AsSpan(bufferStart, count);
            bufferStart += count;
            return span;
        }

        private void Fill(int needed)
        {
            var kept = bufferEnd - bufferStart;
            Buffer.BlockCopy(buffer, bufferStart, buffer, 0, kept);
            bufferFileOffset += bufferStart;
            bufferStart = 0;
            bufferEnd = kept;
            stream.Position = start + bufferFileOffset + bufferEnd;
            var wanted = (int)Math.Min(BufferSize - bufferEnd, length - (bufferFileOffset + bufferEnd));
            stream.ReadExactly(buffer, bufferEnd, wanted);
            bufferEnd += wanted;
            if (bufferEnd < needed)
            {
                throw new InvalidOperationException("The GGUF stream returned fewer bytes than its length promised.");
            }
        }

        private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

        private GgufFormatException Error(string message, long offset, string field) => new(message, start + offset, field);
    }
}
