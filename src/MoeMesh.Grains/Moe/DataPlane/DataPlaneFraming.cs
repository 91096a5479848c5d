using System.Buffers.Binary;
using MoeMesh.Activations;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// The TCP frame stream's framing: a 4-byte little-endian length, then that many bytes of one
/// MessagePack activation frame. The first message on a connection is the 32-byte token.
/// </summary>
internal static class DataPlaneFraming
{
    public const int TokenBytes = 32;

    public static async Task WriteAsync(Stream stream, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        // One write: length and frame leave in the same segment.
        var buffer = new byte[4 + frame.Length];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, frame.Length);
        frame.CopyTo(buffer.AsMemory(4));
        await stream.WriteAsync(buffer, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads one frame; null at a clean end of stream. An oversized or empty length is rejected.</summary>
    public static async Task<byte[]?> ReadAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        var read = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new ActivationFrameFormatException("The stream ended inside a frame's length.");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length <= 0 || length > maxBytes)
        {
            throw new ActivationFrameFormatException($"A frame of {length} bytes was announced; 1 to {maxBytes} are accepted.");
        }

        var frame = new byte[length];
        await stream.ReadExactlyAsync(frame, cancellationToken);
        return frame;
    }
}
