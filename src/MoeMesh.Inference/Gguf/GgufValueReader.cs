using System.Buffers.Binary;

namespace MoeMesh.Inference.Gguf;

/// <summary>Reads one typed GGUF metadata value, arrays (nested up to the limit) included.</summary>
internal static class GgufValueReader
{
    public static GgufValue Read(GgufByteCursor cursor, GgufValueType type, string field, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.FromUInt8(cursor.ReadBytes(1, field)[0]);
            case GgufValueType.Int8: return GgufValue.FromInt8((sbyte)cursor.ReadBytes(1, field)[0]);
            case GgufValueType.UInt16: return GgufValue.FromUInt16(BinaryPrimitives.ReadUInt16LittleEndian(cursor.ReadBytes(2, field)));
            case GgufValueType.Int16: return GgufValue.FromInt16(BinaryPrimitives.ReadInt16LittleEndian(cursor.ReadBytes(2, field)));
            case GgufValueType.UInt32: return GgufValue.FromUInt32(cursor.ReadUInt32(field));
            case GgufValueType.Int32: return GgufValue.FromInt32(BinaryPrimitives.ReadInt32LittleEndian(cursor.ReadBytes(4, field)));
            case GgufValueType.Float32: return GgufValue.FromFloat32(BinaryPrimitives.ReadSingleLittleEndian(cursor.ReadBytes(4, field)));
            case GgufValueType.Bool: return GgufValue.FromBool(cursor.ReadBool(field));
            case GgufValueType.String: return GgufValue.FromString(cursor.ReadString(field));
            case GgufValueType.UInt64: return GgufValue.FromUInt64(cursor.ReadUInt64(field));
            case GgufValueType.Int64: return GgufValue.FromInt64(BinaryPrimitives.ReadInt64LittleEndian(cursor.ReadBytes(8, field)));
            case GgufValueType.Float64: return GgufValue.FromFloat64(BinaryPrimitives.ReadDoubleLittleEndian(cursor.ReadBytes(8, field)));
            case GgufValueType.Array: return ReadArray(cursor, field, depth);
            default: throw new InvalidOperationException($"Unhandled GGUF type {type}.");
        }
    }

    private static GgufValue ReadArray(GgufByteCursor cursor, string field, int depth)
    {
        if (depth >= cursor.Limits.MaxArrayDepth)
        {
            throw cursor.Error($"Arrays are nested deeper than {cursor.Limits.MaxArrayDepth} levels", cursor.Position, field);
        }

        var elementType = cursor.ReadValueType($"{field}.element_type", cursor.Position);
        var minElementBytes = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
            _ => 12,
        };
        var count = (int)cursor.ReadCount($"{field}.length", cursor.Limits.MaxArrayLength, minElementBytes, "array elements");
        var fixedSize = elementType is not (GgufValueType.String or GgufValueType.Array or GgufValueType.Bool);
        if (fixedSize)
        {
            // Read the whole block at once: large float/int arrays (scores, token types) are common.
            var bytes = cursor.ReadBytes(checked(count * minElementBytes), field).ToArray();
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
                    items[i] = cursor.ReadBool(field);
                }

                return GgufValue.FromArray(GgufValueType.Bool, items);
            }

            case GgufValueType.String:
            {
                var items = new string[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = cursor.ReadString(field);
                }

                return GgufValue.FromArray(items);
            }

            default:
            {
                var items = new GgufValue[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = ReadArray(cursor, $"{field}[{i}]", depth + 1);
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
}
