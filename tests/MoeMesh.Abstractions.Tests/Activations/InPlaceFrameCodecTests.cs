using System.Buffers;
using FsCheck.Xunit;
using MoeMesh.Activations;

namespace MoeMesh.Abstractions.Tests.Activations;

/// <summary>The allocation-free forms: the tensor encoded in place into a reused writer, decoded into a reused buffer.</summary>
public sealed class InPlaceFrameCodecTests
{
    [Property(MaxTest = 300)]
    public bool Encoding_in_place_writes_the_bytes_of_encoding_a_created_frame(int seed)
    {
        var random = new Random(seed);
        var (tokens, hidden, k) = (random.Next(1, 6), random.Next(1, 100), random.Next(1, 5));
        var dtype = (ActivationDType)random.Next(4);
        var values = FrameSamples.Values(random, tokens * hidden);
        int[] positions = [.. Enumerable.Range(random.Next(100), tokens)];
        int[] ids = [.. Enumerable.Range(0, tokens * k).Select(_ => random.Next(-1, 64))];
        float[] weights = [.. Enumerable.Range(0, tokens * k).Select(_ => (float)random.NextDouble())];

        var created = ActivationFrameCodec.Encode(ActivationFrame.Create(
            ActivationFrameKind.ExpertInput, "m", 3, "s", positions, values, hidden, dtype, k, ids, weights));
        var writer = new ArrayBufferWriter<byte>();
        ActivationFrameCodec.Encode(writer, ActivationFrameKind.ExpertInput, "m", 3, "s", positions, values, hidden, dtype, k, ids, weights);
        return writer.WrittenSpan.SequenceEqual(created);
    }

    [Fact]
    public void A_hop_through_reused_buffers_allocates_nothing_the_size_of_its_tensor()
    {
        const int hidden = 2048;
        var values = FrameSamples.Values(new Random(7), hidden);
        var writer = new ArrayBufferWriter<byte>(16 * 1024);
        var decoded = new float[hidden];
        Hop(writer, values, decoded);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            Hop(writer, values, decoded);
        }

        var perHop = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;

        // An f32 tensor of H = 2048 is 8 KiB as bytes and again as floats; only the small fields (ids, arrays of one) remain.
        Assert.True(perHop < 1024, $"{perHop} bytes allocated per encode and decode");
        Assert.Equal(values, decoded);
    }

    [Fact]
    public void Decoding_into_a_buffer_of_the_wrong_size_is_refused()
    {
        var frame = ActivationFrame.Create(ActivationFrameKind.ExpertOutput, "m", 0, "s", [0], new float[8], 8, ActivationDType.F16);
        Assert.Throws<ArgumentException>(() => frame.DecodeTensor(new float[7]));
    }

    [Fact]
    public void An_inconsistent_frame_is_refused_before_anything_is_written()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ActivationFrameFormatException>(() => ActivationFrameCodec.Encode(
            writer, ActivationFrameKind.ExpertInput, "m", 0, "s", [0, 1], new float[16], 8, ActivationDType.F32, 1, [0], [1f]));
        Assert.Equal(0, writer.WrittenCount);
    }

    private static void Hop(ArrayBufferWriter<byte> writer, float[] values, float[] decoded)
    {
        writer.ResetWrittenCount();
        ActivationFrameCodec.Encode(writer, ActivationFrameKind.ExpertInput, "hop-bench", 0, "hop", [0], values, values.Length, ActivationDType.F32, 2, [0, 1], [0.6f, 0.4f]);
        ActivationFrameCodec.Decode(writer.WrittenMemory).DecodeTensor(decoded);
    }
}
