using System.Buffers.Binary;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Moe.Weights;

/// <summary>Encodes rows of floats into the ggml block formats the synthesizer writes (F32, F16, Q8_0).</summary>
public static class GgmlQuantizer
{
    /// <summary>Bytes that <paramref name="count"/> elements of <paramref name="type"/> take.</summary>
    public static long ByteCount(GgmlType type, long count)
    {
        return GgmlTypeTraits.ByteSize(type, count)
            ?? throw new ArgumentException($"{count} elements are not a whole number of {type} blocks.", nameof(count));
    }

    /// <summary>Writes <paramref name="values"/> as <paramref name="type"/> into <paramref name="destination"/>.</summary>
    public static void Encode(GgmlType type, ReadOnlySpan<float> values, Span<byte> destination)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], values[i]);
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(2 * i)..], (Half)values[i]);
                }

                break;
            case GgmlType.Q8_0:
                EncodeQ8_0(values, destination);
                break;
            default:
                throw new ArgumentException($"Encoding {type} is not supported (F32, F16 and Q8_0 are).", nameof(type));
        }
    }

    /// <summary>Q8_0: blocks of 32 as an F16 scale d = max|x| / 127 and 32 signed bytes round(x / d).</summary>
    private static void EncodeQ8_0(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (var block = 0; block * 32 < values.Length; block++)
        {
            var source = values.Slice(block * 32, 32);
            var target = destination.Slice(block * 34, 34);
            var max = 0f;
            foreach (var v in source)
            {
                max = MathF.Max(max, MathF.Abs(v));
            }

            var d = max / 127f;
            var inverse = d > 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(target, (Half)d);
            for (var i = 0; i < 32; i++)
            {
                target[2 + i] = unchecked((byte)(sbyte)MathF.Round(source[i] * inverse));
            }
        }
    }
}
