using System.Buffers.Binary;
using MoeMesh.Activations;
using MoeMesh.Grains.Moe.DataPlane;

namespace MoeMesh.Grains.Tests.Moe.DataPlane;

/// <summary>The length-prefixed framing over reused buffers, and what a hop allocates on the answering side.</summary>
public sealed class DataPlaneFramingTests
{
    [Fact]
    public void Frames_of_growing_size_cross_one_pair_of_reused_buffers()
    {
        using var stream = new MemoryStream();
        using var send = new FrameBuffer();
        int[] sizes = [1, 300, 70_000, 5];
        foreach (var size in sizes)
        {
            var span = DataPlaneFraming.Begin(send).GetSpan(size);
            span[..size].Fill((byte)size);
            send.Advance(size);
            DataPlaneFraming.Send(stream, send);
        }

        stream.Position = 0;
        using var receive = new FrameBuffer();
        foreach (var size in sizes)
        {
            Assert.True(DataPlaneFraming.Read(stream, receive, 1 << 20));
            Assert.Equal(size, receive.Written.Length);
            Assert.All(receive.Written.ToArray(), b => Assert.Equal((byte)size, b));
        }

        Assert.False(DataPlaneFraming.Read(stream, receive, 1 << 20));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1025)]
    public void An_empty_negative_or_oversized_length_is_rejected_before_reading_on(int announced)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, announced);
        using var receive = new FrameBuffer();
        Assert.Throws<ActivationFrameFormatException>(() => DataPlaneFraming.Read(new MemoryStream(bytes), receive, 1024));
    }

    [Fact]
    public void A_stream_that_ends_inside_a_frame_is_an_error_not_a_short_frame()
    {
        var bytes = new byte[4 + 10];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, 100);
        using var receive = new FrameBuffer();
        Assert.Throws<EndOfStreamException>(() => DataPlaneFraming.Read(new MemoryStream(bytes), receive, 1024));
        Assert.Throws<ActivationFrameFormatException>(() => DataPlaneFraming.Read(new MemoryStream(bytes, 0, 2), receive, 1024));
    }

    [Fact]
    public void Answering_a_hop_frame_into_a_reused_buffer_allocates_nothing_the_size_of_the_frame()
    {
        var request = HopEcho.SampleInput(2048, ActivationDType.F32);
        var runners = new LocalShardRunners();
        using var reply = new FrameBuffer();
        runners.Handle(request, DataPlaneFraming.Begin(reply));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            runners.Handle(request, DataPlaneFraming.Begin(reply));
        }

        var perHop = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;

        // The frame is 8 KiB of tensor; the old path allocated it three times over (request floats, reply payload, reply frame).
        Assert.True(perHop < 1024, $"{perHop} bytes allocated per answered frame");
        var answer = ActivationFrameCodec.Decode(reply.Written[4..]);
        Assert.Equal(ActivationFrameKind.ExpertOutput, answer.Kind);
        Assert.Equal(ActivationFrameCodec.Decode(request).Payload.ToArray(), answer.Payload.ToArray());
    }
}
