using System.Buffers.Binary;

namespace MoeMesh.Activations;

/// <summary>Converts float activations to and from a frame's payload bytes in each <see cref="ActivationDType"/>.</summary>
public static class ActivationTensor
{
    /// <summary>Values in one Q8_0 block.</summary>
    public const int Q8BlockSize = 32;

    /// <summary>Bytes of one Q8_0 block: a binary16 scale and 32 int8 values.</summary>
    public const int Q8BlockBytes = 2 + Q8BlockSize;

    /// <summary>Payload bytes of <paramref name="rows"/> rows of <paramref name="columns"/> values.</summary>
    public static long PayloadBytes(ActivationDType dtype, long rows, long columns) => dtype switch
    {
        ActivationDType.F32 => rows * columns * 4,
        ActivationDType.F16 or ActivationDType.BF16 => rows * columns * 2,
        ActivationDType.Q8_0 => rows * ((columns + Q8BlockSize - 1) / Q8BlockSize) * Q8BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown activation dtype."),
    };

    /// <summary>Encodes <paramref name="values"/> (rows × columns, row-major) as payload bytes.</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, int columns, ActivationDType dtype)
    {
        var bytes = new byte[PayloadBytes(dtype, Rows(values, columns), columns)];
        Encode(values, columns, dtype, bytes);
        return bytes;
    }

    /// <summary>
    /// Encodes <paramref name="values"/> (rows × columns, row-major) into <paramref name="destination"/>,
    /// which must be exactly <see cref="PayloadBytes"/> long: the allocation-free form, for pooled buffers.
    /// </summary>
    public static void Encode(ReadOnlySpan<float> values, int columns, ActivationDType dtype, Span<byte> destination)
    {
        var rows = Rows(values, columns);
        if (destination.Length != PayloadBytes(dtype, rows, columns))
        {
            throw new ArgumentException($"A {dtype} payload of {rows}×{columns} values is {PayloadBytes(dtype, rows, columns)} bytes, not {destination.Length}.", nameof(destination));
        }

        switch (dtype)
        {
            case ActivationDType.F32:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], values[i]);
                }

                break;
            case ActivationDType.F16:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)values[i]);
                }

                break;
            case ActivationDType.BF16:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * 2)..], ToBFloat16(values[i]));
                }

                break;
            default:
                var rowBytes = (int)PayloadBytes(dtype, 1, columns);
                for (var r = 0; r < rows; r++)
                {
                    EncodeQ8Row(values.Slice(r * columns, columns), destination.Slice(r * rowBytes, rowBytes));
                }

                break;
        }
    }

    private static int Rows(ReadOnlySpan<float> values, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (values.Length % columns != 0)
        {
            throw new ArgumentException($"{values.Length} values do not make whole rows of {columns}.", nameof(values));
        }

        return values.Length / columns;
    }

    /// <summary>
    /// Decodes payload bytes into <paramref name="destination"/> (rows × columns). A payload of the
    /// wrong length, or one that decodes to a value that is not finite, is rejected.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> payload, int columns, ActivationDType dtype, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (destination.Length % columns != 0)
        {
            throw new ArgumentException($"{destination.Length} values do not make whole rows of {columns}.", nameof(destination));
        }

        var rows = destination.Length / columns;
        if (!Enum.IsDefined(dtype) || payload.Length != PayloadBytes(dtype, rows, columns))
        {
            throw new ActivationFrameFormatException($"A {dtype} payload of {rows}×{columns} values must hold {(Enum.IsDefined(dtype) ? PayloadBytes(dtype, rows, columns) : 0)} bytes, not {payload.Length}.");
        }

        switch (dtype)
        {
            case ActivationDType.F32:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(payload[(i * 4)..]);
                }

                break;
            case ActivationDType.F16:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(payload[(i * 2)..]);
                }

                break;
            case ActivationDType.BF16:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(payload[(i * 2)..]) << 16);
                }

                break;
            default:
                var rowBytes = (int)PayloadBytes(dtype, 1, columns);
                for (var r = 0; r < rows; r++)
                {
                    DecodeQ8Row(payload.Slice(r * rowBytes, rowBytes), destination.Slice(r * columns, columns));
                }

                break;
        }

        for (var i = 0; i < destination.Length; i++)
        {
            if (!float.IsFinite(destination[i]))
            {
                throw new ActivationFrameFormatException($"The {dtype} payload holds a value that is not finite at index {i}.");
            }
        }
    }

    /// <summary>Rounds to nearest even, as frameworks that speak bfloat16 do; NaN stays NaN.</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    private static void EncodeQ8Row(ReadOnlySpan<float> row, Span<byte> destination)
    {
        for (int start = 0, block = 0; start < row.Length; start += Q8BlockSize, block++)
        {
            var values = row.Slice(start, Math.Min(Q8BlockSize, row.Length - start));
            var amax = 0f;
            foreach (var v in values)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            // The scale travels as binary16, so quantise against the scale the reader will see.
            var scale = (float)(Half)(amax / 127f);
            var inverse = scale != 0 ? 1f / scale : 0f;
            var target = destination.Slice(block * Q8BlockBytes, Q8BlockBytes);
            BinaryPrimitives.WriteHalfLittleEndian(target, (Half)scale);
            for (var j = 0; j < values.Length; j++)
            {
                target[2 + j] = (byte)(sbyte)Math.Clamp(MathF.Round(values[j] * inverse), -127f, 127f);
            }
        }
    }

    private static void DecodeQ8Row(ReadOnlySpan<byte> row, Span<float> destination)
    {
        for (int start = 0, block = 0; start < destination.Length; start += Q8BlockSize, block++)
        {
            var source = row.Slice(block * Q8BlockBytes, Q8BlockBytes);
            var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(source);
            var count = Math.Min(Q8BlockSize, destination.Length - start);
            for (var j = 0; j < count; j++)
            {
                destination[start + j] = (sbyte)source[2 + j] * scale;
            }
        }
    }
}
