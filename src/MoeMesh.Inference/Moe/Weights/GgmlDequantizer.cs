using System.Buffers.Binary;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Moe.Weights;

/// <summary>
/// Turns tensor data in the ggml block formats real MoE files carry (F32, F16, BF16, Q8_0, Q4_K,
/// Q6_K) into 32-bit floats. The block layouts are those of ggml's <c>block_q8_0</c>,
/// <c>block_q4_K</c> and <c>block_q6_K</c> (little-endian, F16 scales).
/// </summary>
public static class GgmlDequantizer
{
    /// <summary>The types <see cref="Dequantize"/> reads.</summary>
    public static IReadOnlySet<GgmlType> SupportedTypes { get; } =
        new HashSet<GgmlType> { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K };

    /// <summary>True when <paramref name="type"/> can be dequantised.</summary>
    public static bool IsSupported(GgmlType type) => SupportedTypes.Contains(type);

    /// <summary>Decodes <paramref name="destination"/>.Length elements of <paramref name="type"/> from <paramref name="source"/>.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var needed = GgmlTypeTraits.ByteSize(type, destination.Length);
        if (!IsSupported(type) || needed is null)
        {
            throw new ArgumentException(IsSupported(type)
                ? $"{destination.Length} elements are not a whole number of {type} blocks."
                : $"Tensor type {type} is not supported (F32, F16, BF16, Q8_0, Q4_K and Q6_K are).", nameof(type));
        }

        if (source.Length < needed)
        {
            throw new ArgumentException($"{destination.Length} {type} elements need {needed} bytes; {source.Length} were given.", nameof(source));
        }

        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                }

                break;
            case GgmlType.BF16:
                // bfloat16 is the upper half of an IEEE float32.
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
                }

                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < destination.Length / 32; b++)
                {
                    Q8_0(source.Slice(b * 34, 34), destination.Slice(b * 32, 32));
                }

                break;
            case GgmlType.Q4_K:
                for (var b = 0; b < destination.Length / 256; b++)
                {
                    Q4_K(source.Slice(b * 144, 144), destination.Slice(b * 256, 256));
                }

                break;
            default:
                for (var b = 0; b < destination.Length / 256; b++)
                {
                    Q6_K(source.Slice(b * 210, 210), destination.Slice(b * 256, 256));
                }

                break;
        }
    }

    /// <summary>Q8_0: F16 scale d, then 32 signed bytes; x = d · q.</summary>
    private static void Q8_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        for (var i = 0; i < 32; i++)
        {
            y[i] = d * (sbyte)block[2 + i];
        }
    }

    /// <summary>
    /// Q4_K: F16 d, F16 dmin, 12 bytes packing eight 6-bit (scale, min) pairs, 128 bytes of 4-bit
    /// values. Each 64 values use two sub-blocks: the low nibbles of 32 bytes, then their high nibbles;
    /// x = d · scale · q − dmin · min.
    /// </summary>
    private static void Q4_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        var dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
        var scales = block.Slice(4, 12);
        var qs = block.Slice(16, 128);
        for (var chunk = 0; chunk < 4; chunk++)
        {
            var (scaleLow, minLow) = ScaleMin(2 * chunk, scales);
            var (scaleHigh, minHigh) = ScaleMin(2 * chunk + 1, scales);
            var q = qs.Slice(32 * chunk, 32);
            var output = y.Slice(64 * chunk, 64);
            for (var l = 0; l < 32; l++)
            {
                output[l] = d * scaleLow * (q[l] & 0xF) - dmin * minLow;
                output[32 + l] = d * scaleHigh * (q[l] >> 4) - dmin * minHigh;
            }
        }
    }

    /// <summary>Sub-block j's 6-bit scale and min: j &lt; 4 in the low 6 bits of bytes j and j+4; later ones split over nibbles and top bits.</summary>
    private static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> s) => j < 4
        ? (s[j] & 63, s[j + 4] & 63)
        : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4));

    /// <summary>
    /// Q6_K: 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 signed 8-bit scales, F16 d.
    /// Each half of 128 values: value l of quarter k takes its low nibble from ql (byte l or l+32,
    /// low or high nibble) and two bits from qh[l]; x = d · scale · (q − 32).
    /// </summary>
    private static void Q6_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[208..]);
        for (var half = 0; half < 2; half++)
        {
            var ql = block.Slice(64 * half, 64);
            var qh = block.Slice(128 + 32 * half, 32);
            var sc = block.Slice(192 + 8 * half, 8);
            var output = y.Slice(128 * half, 128);
            for (var l = 0; l < 32; l++)
            {
                var s = l / 16;
                var q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                output[l] = d * (sbyte)sc[s] * q1;
                output[l + 32] = d * (sbyte)sc[s + 2] * q2;
                output[l + 64] = d * (sbyte)sc[s + 4] * q3;
                output[l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
        }
    }
}
