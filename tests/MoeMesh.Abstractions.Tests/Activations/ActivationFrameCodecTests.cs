using System.Globalization;
using FsCheck;
using FsCheck.Xunit;
using MessagePack;
using MoeMesh.Activations;
using Xunit.Abstractions;

namespace MoeMesh.Abstractions.Tests.Activations;

public sealed class ActivationFrameCodecTests(ITestOutputHelper output)
{
    [Property(MaxTest = 500)]
    public bool Every_valid_frame_round_trips(int seed)
    {
        var frame = FrameSamples.Random(seed);
        return SameFrame(frame, ActivationFrameCodec.Decode(ActivationFrameCodec.Encode(frame)));
    }

    internal static bool SameFrame(ActivationFrame frame, ActivationFrame decoded)
        => decoded.Kind == frame.Kind && decoded.ModelId == frame.ModelId && decoded.Layer == frame.Layer
            && decoded.SequenceId == frame.SequenceId && decoded.DType == frame.DType
            && decoded.Positions.SequenceEqual(frame.Positions) && decoded.Shape.SequenceEqual(frame.Shape)
            && decoded.ExpertsPerToken == frame.ExpertsPerToken && decoded.ExpertIds.SequenceEqual(frame.ExpertIds)
            && decoded.GateWeights.SequenceEqual(frame.GateWeights) && decoded.Payload.Span.SequenceEqual(frame.Payload.Span);

    [Property(MaxTest = 2000)]
    public bool Arbitrary_bytes_are_decoded_or_rejected_with_a_format_error(byte[] bytes)
        => DecodesOrRejects(bytes ?? []);

    [Property(MaxTest = 300)]
    public bool Every_truncation_of_a_valid_frame_is_rejected(int seed)
    {
        var bytes = ActivationFrameCodec.Encode(FrameSamples.Random(seed));
        for (var length = 0; length < bytes.Length; length++)
        {
            try
            {
                ActivationFrameCodec.Decode(bytes.AsMemory(0, length));
                return false;
            }
            catch (ActivationFrameFormatException)
            {
            }
        }

        return true;
    }

    /// <summary>
    /// Damaged frames (bit flips, truncation, inserted junk, overwritten bytes, random bytes). The
    /// count comes from MOEMESH_FRAME_FUZZ_INPUTS (default 20,000; the documented run uses 100,000).
    /// </summary>
    [Fact]
    public void Damaged_frames_never_crash_the_decoder()
    {
        var count = int.Parse(Environment.GetEnvironmentVariable("MOEMESH_FRAME_FUZZ_INPUTS") ?? "20000", CultureInfo.InvariantCulture);
        var random = new Random(20261203);
        var valid = Enumerable.Range(0, 64).Select(i => ActivationFrameCodec.Encode(FrameSamples.Random(i))).ToArray();
        var rejected = 0;
        for (var i = 0; i < count; i++)
        {
            var damaged = FrameSamples.Damaged(random, valid[random.Next(valid.Length)]);
            try
            {
                var frame = ActivationFrameCodec.Decode(damaged);
                _ = frame.ToFloats();

                // Whatever the decoder accepts is a consistent frame that survives another round trip.
                Assert.True(SameFrame(frame, ActivationFrameCodec.Decode(ActivationFrameCodec.Encode(frame))));
            }
            catch (ActivationFrameFormatException)
            {
                rejected++;
            }
        }

        output.WriteLine($"{count} damaged frames: {rejected} rejected with a format error, {count - rejected} still valid, no other exception.");
        Assert.True(rejected > count / 2, $"only {rejected} of {count} damaged frames were rejected");
    }

    [Fact]
    public void Oversized_frames_and_tensors_are_rejected_before_allocation()
    {
        var frame = ActivationFrame.Create(ActivationFrameKind.ExpertOutput, "m", 0, "s", [0, 1], new float[2 * 64], 64, ActivationDType.F32);
        var bytes = ActivationFrameCodec.Encode(frame);
        var small = new ActivationFrameLimits { MaxFrameBytes = bytes.Length - 1 };
        var error = Assert.Throws<ActivationFrameFormatException>(() => ActivationFrameCodec.Decode(bytes, small));
        Assert.Contains("at most", error.Message, StringComparison.Ordinal);
        Assert.Throws<ActivationFrameFormatException>(() => ActivationFrameCodec.Decode(bytes, new ActivationFrameLimits { MaxHiddenSize = 63 }));
        Assert.Throws<ActivationFrameFormatException>(() => ActivationFrameCodec.Decode(bytes, new ActivationFrameLimits { MaxTokens = 1 }));
    }

    [Fact]
    public void Inconsistent_frames_cannot_be_encoded()
    {
        var frame = FrameSamples.Random(1);
        var wrongExperts = new ActivationFrame
        {
            Kind = ActivationFrameKind.ExpertInput, ModelId = "m", Layer = 0, SequenceId = "s", Positions = [0], DType = ActivationDType.F32,
            Shape = [1, 4], ExpertsPerToken = 2, ExpertIds = [1], GateWeights = [0.5f, 0.5f], Payload = new byte[16],
        };
        Assert.Throws<ActivationFrameFormatException>(() => ActivationFrameCodec.Encode(wrongExperts));
        Assert.Throws<ActivationFrameFormatException>(() => ActivationFrameCodec.Encode(new ActivationFrame
        {
            Kind = frame.Kind, ModelId = frame.ModelId, Layer = frame.Layer, SequenceId = frame.SequenceId, Positions = frame.Positions,
            DType = frame.DType, Shape = frame.Shape, ExpertsPerToken = frame.ExpertsPerToken, ExpertIds = frame.ExpertIds,
            GateWeights = frame.GateWeights, Payload = frame.Payload[..^1],
        }));
    }

    [Fact]
    public void A_generic_MessagePack_reader_sees_the_documented_fields()
    {
        var frame = ActivationFrame.Create(
            ActivationFrameKind.ExpertInput, "mixtral-tiny", 3, "seq-1", [7], [1f, -2f], 2, ActivationDType.F16, 2, [5, 1], [0.75f, 0.25f]);
        var fields = MessagePackSerializer.Deserialize<object[]>(ActivationFrameCodec.Encode(frame));
        Assert.Equal(ActivationFrameCodec.FieldCount, fields.Length);
        Assert.Equal(1, Convert.ToInt32(fields[0], CultureInfo.InvariantCulture));
        Assert.Equal("mixtral-tiny", fields[2]);
        Assert.Equal(3, Convert.ToInt32(fields[3], CultureInfo.InvariantCulture));
        Assert.Equal("seq-1", fields[4]);
        Assert.Equal((int)ActivationDType.F16, Convert.ToInt32(fields[6], CultureInfo.InvariantCulture));
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x00, 0xC0 }, (byte[])fields[11]);
    }

    private static bool DecodesOrRejects(byte[] bytes)
    {
        try
        {
            _ = ActivationFrameCodec.Decode(bytes).ToFloats();
        }
        catch (ActivationFrameFormatException)
        {
        }

        return true;
    }
}
