using System.Buffers.Binary;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Weights;

namespace MoeMesh.Inference.Tests.Moe.Weights;

/// <summary>Each block format decoded from blocks packed here by hand from the format's layout.</summary>
public sealed class GgmlDequantizerTests
{
    [Fact]
    public void F32F16AndBF16DecodeExactly()
    {
        float[] values = [1.5f, -2.25f, 0f, 65504f];
        var f32 = new byte[16];
        var f16 = new byte[8];
        var bf16 = new byte[8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(4 * i), values[i]);
            BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(2 * i), (Half)values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(2 * i), (ushort)(BitConverter.SingleToInt32Bits(values[i]) >>> 16));
        }

        Assert.Equal(values, Decode(GgmlType.F32, f32, 4));
        Assert.Equal(values, Decode(GgmlType.F16, f16, 4));
        Assert.Equal([1.5f, -2.25f, 0f, 65280f], Decode(GgmlType.BF16, bf16, 4));
    }

    [Fact]
    public void Q8_0IsScaleTimesSignedByte()
    {
        var block = new byte[34];
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)0.5f);
        for (var i = 0; i < 32; i++)
        {
            block[2 + i] = unchecked((byte)(sbyte)(4 * i - 128));
        }

        var decoded = Decode(GgmlType.Q8_0, block, 32);

        for (var i = 0; i < 32; i++)
        {
            Assert.Equal(0.5f * (4 * i - 128), decoded[i]);
        }
    }

    [Fact]
    public void Q8_0RoundTripsWithinHalfAStep()
    {
        var values = Enumerable.Range(0, 64).Select(i => MathF.Sin(i * 0.7f) * 3f).ToArray();
        var bytes = new byte[68];
        GgmlQuantizer.Encode(GgmlType.Q8_0, values, bytes);

        var decoded = Decode(GgmlType.Q8_0, bytes, 64);

        for (var i = 0; i < 64; i++)
        {
            Assert.InRange(decoded[i] - values[i], -3f / 127 * 0.51f, 3f / 127 * 0.51f);
        }
    }

    [Fact]
    public void Q4_KUsesSixBitScalesAndMinsPerSubBlock()
    {
        int[] scales = [1, 17, 33, 63, 5, 48, 21, 62];
        int[] mins = [0, 63, 2, 40, 16, 31, 57, 9];
        var block = new byte[144];
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)1f);
        BinaryPrimitives.WriteHalfLittleEndian(block.AsSpan(2), (Half)0.5f);
        for (var j = 0; j < 4; j++)
        {
            block[4 + j] = (byte)(scales[j] | ((scales[j + 4] >> 4) << 6));
            block[8 + j] = (byte)(mins[j] | ((mins[j + 4] >> 4) << 6));
            block[12 + j] = (byte)((scales[j + 4] & 0xF) | ((mins[j + 4] & 0xF) << 4));
        }

        static int Quant(int subBlock, int l) => (l * 7 + subBlock) % 16;
        for (var chunk = 0; chunk < 4; chunk++)
        {
            for (var l = 0; l < 32; l++)
            {
                block[16 + 32 * chunk + l] = (byte)(Quant(2 * chunk, l) | (Quant(2 * chunk + 1, l) << 4));
            }
        }

        var decoded = Decode(GgmlType.Q4_K, block, 256);

        for (var p = 0; p < 256; p++)
        {
            var j = p / 32;
            Assert.Equal(1f * scales[j] * Quant(j, p % 32) - 0.5f * mins[j], decoded[p]);
        }
    }

    [Fact]
    public void Q6_KCombinesLowNibblesHighBitsAndSignedScales()
    {
        var block = new byte[210];
        var expected = new float[256];
        var scales = Enumerable.Range(0, 16).Select(k => (sbyte)(k * 5 - 40)).ToArray();
        for (var k = 0; k < 16; k++)
        {
            block[192 + k] = unchecked((byte)scales[k]);
        }

        BinaryPrimitives.WriteHalfLittleEndian(block.AsSpan(208), (Half)0.25f);
        for (var p = 0; p < 256; p++)
        {
            var q = (p * 11 + 3) % 64;
            int half = p / 128, quarter = p % 128 / 32, l = p % 32;
            var lowByte = 64 * half + l + (quarter % 2 == 1 ? 32 : 0);
            block[lowByte] |= (byte)(quarter < 2 ? q & 0xF : (q & 0xF) << 4);
            block[128 + 32 * half + l] |= (byte)((q >> 4) << (2 * quarter));
            expected[p] = 0.25f * scales[8 * half + 2 * quarter + l / 16] * (q - 32);
        }

        Assert.Equal(expected, Decode(GgmlType.Q6_K, block, 256));
    }

    [Theory]
    [InlineData(GgmlType.Q4_0, 32)]
    [InlineData(GgmlType.Q8_0, 31)]
    public void UnsupportedTypesAndPartialBlocksAreRejected(GgmlType type, int count)
    {
        var error = Assert.Throws<ArgumentException>(() => GgmlDequantizer.Dequantize(type, new byte[1024], new float[count]));
        Assert.Contains(type.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortDataIsRejected() =>
        Assert.Throws<ArgumentException>(() => GgmlDequantizer.Dequantize(GgmlType.Q6_K, new byte[209], new float[256]));

    private static float[] Decode(GgmlType type, byte[] data, int count)
    {
        var output = new float[count];
        GgmlDequantizer.Dequantize(type, data, output);
        return output;
    }
}
