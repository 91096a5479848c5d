using MoeMesh.Activations;

namespace MoeMesh.Abstractions.Tests.Activations;

public sealed class ActivationTensorTests
{
    [Theory]
    [InlineData(ActivationDType.F32, 2048, 8192)]
    [InlineData(ActivationDType.F16, 2048, 4096)]
    [InlineData(ActivationDType.BF16, 2048, 4096)]
    [InlineData(ActivationDType.Q8_0, 2048, 2176)]
    [InlineData(ActivationDType.Q8_0, 40, 68)]
    public void Bytes_per_token_follow_the_dtype(ActivationDType dtype, int hidden, long bytes)
        => Assert.Equal(bytes, ActivationTensor.PayloadBytes(dtype, 1, hidden));

    [Theory]
    [InlineData(ActivationDType.F32, 0.0)]
    [InlineData(ActivationDType.F16, 1.0 / 2048)]
    [InlineData(ActivationDType.BF16, 1.0 / 256)]
    public void Floating_dtypes_round_trip_within_their_precision(ActivationDType dtype, double relative)
    {
        var values = FrameSamples.Values(new Random(7), 3 * 50);
        var decoded = new float[values.Length];
        ActivationTensor.Decode(ActivationTensor.Encode(values, 50, dtype), 50, dtype, decoded);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.True(Math.Abs(decoded[i] - values[i]) <= Math.Abs(values[i]) * relative, $"{dtype}: {values[i]} came back as {decoded[i]}");
        }
    }

    [Fact]
    public void Q8_0_keeps_each_value_within_half_a_step_of_its_block_scale()
    {
        var values = FrameSamples.Values(new Random(3), 2 * 70);
        var decoded = new float[values.Length];
        ActivationTensor.Decode(ActivationTensor.Encode(values, 70, ActivationDType.Q8_0), 70, ActivationDType.Q8_0, decoded);
        for (var row = 0; row < 2; row++)
        {
            for (var start = 0; start < 70; start += 32)
            {
                var block = values.AsSpan((row * 70) + start, Math.Min(32, 70 - start));
                var amax = 0f;
                foreach (var v in block)
                {
                    amax = Math.Max(amax, Math.Abs(v));
                }

                for (var j = 0; j < block.Length; j++)
                {
                    var i = (row * 70) + start + j;
                    Assert.True(Math.Abs(decoded[i] - values[i]) <= (amax / 127 * 0.5) + (amax * 1e-3), $"{values[i]} came back as {decoded[i]}");
                }
            }
        }
    }

    [Fact]
    public void Bfloat16_rounds_to_nearest_even()
    {
        Assert.Equal(0x3F80, ActivationTensor.ToBFloat16(1f));
        Assert.Equal(0x3F80, ActivationTensor.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie → even
        Assert.Equal(0x3F82, ActivationTensor.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie → even (up)
        Assert.True(float.IsNaN(BitConverter.UInt32BitsToSingle((uint)ActivationTensor.ToBFloat16(float.NaN) << 16)));
    }

    [Fact]
    public void A_payload_of_the_wrong_length_or_with_non_finite_values_is_rejected()
    {
        var destination = new float[4];
        Assert.Throws<ActivationFrameFormatException>(() => ActivationTensor.Decode(new byte[15], 4, ActivationDType.F32, destination));
        var nan = ActivationTensor.Encode([1, 2, float.NaN, 4], 4, ActivationDType.F32);
        Assert.Throws<ActivationFrameFormatException>(() => ActivationTensor.Decode(nan, 4, ActivationDType.F32, destination));
    }
}
