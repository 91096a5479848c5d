using System.Buffers.Binary;
using MoeMesh.Activations;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// The TCP frame stream's framing: a 4-byte little-endian length, then that many bytes of one
/// MessagePack activation frame. The first message on a connection is the 32-byte token. Frames are
/// written from and read into a connection's <see cref="FrameBuffer"/>s with blocking calls, so a
/// steady stream of frames allocates nothing per frame here.
/// </summary>
internal static class DataPlaneFraming
{
    public const int TokenBytes = 32;
    public const int PrefixBytes = 4;

    /// <summary>Starts the next outgoing frame in <paramref name="buffer"/>: its length prefix is reserved, the frame is written after it.</summary>
    public static FrameBuffer Begin(FrameBuffer buffer)
    {
        buffer.Reset();
        buffer.GetSpan(PrefixBytes);
        buffer.Advance(PrefixBytes);
        return buffer;
    }

    /// <summary>
    /// Sends the frame written into <paramref name="buffer"/> since <see cref="Begin"/>, on the calling
    /// thread: length and frame in one write, so in one segment.
    /// </summary>
    public static void Send(Stream stream, FrameBuffer buffer)
    {
        var frame = buffer.Written;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.WrittenSpan(0, PrefixBytes), frame.Length - PrefixBytes);
        stream.Write(frame.Span);
        stream.Flush();
    }

    /// <summary>
    /// Reads one frame into <paramref name="buffer"/> (then <see cref="FrameBuffer.Written"/>), blocking
    /// the calling thread; false at a clean end of stream. An oversized or empty length is rejected
    /// before anything is allocated. On a blocking socket the kernel wakes the waiting thread itself
    /// when the frame arrives, instead of the socket engine's thread handing the completion to the
    /// thread pool, which on a busy machine is where a hop's tail was spent.
    /// </summary>
    public static bool Read(Stream stream, FrameBuffer buffer, int maxBytes)
    {
        var header = buffer.ResetTo(PrefixBytes);
        var read = stream.ReadAtLeast(header.Span, PrefixBytes, throwOnEndOfStream: false);
        if (read == 0)
        {
            return false;
        }

        var length = CheckLength(read, header.Span, maxBytes);
        if (stream.ReadAtLeast(buffer.ResetTo(length).Span, length, throwOnEndOfStream: false) < length)
        {
            throw new EndOfStreamException("The stream ended inside a frame.");
        }

        return true;
    }

    private static int CheckLength(int read, ReadOnlySpan<byte> header, int maxBytes)
    {
        if (read < PrefixBytes)
        {
            throw new ActivationFrameFormatException("The stream ended inside a frame's length.");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length <= 0 || length > maxBytes)
        {
            throw new ActivationFrameFormatException($"A frame of {length} bytes was announced; 1 to {maxBytes} are accepted.");
        }

        return length;
    }
}
