using System.Buffers;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// A connection's reusable frame buffer, rented from the shared pool: the send side encodes its
/// length prefix and frame into it, the receive side reads a frame into it, and the next frame
/// reuses the same array, so a hop allocates nothing the size of a frame. One owner at a time.
/// </summary>
internal sealed class FrameBuffer : IBufferWriter<byte>, IDisposable
{
    private const int InitialBytes = 16 * 1024;

    // A buffer grown past this by one large prefill frame goes back to the pool at the next frame.
    private const int RetainedBytes = 4 * 1024 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
    private int _written;

    /// <summary>What was written (or read) since the last <see cref="Reset"/>; valid until the next one.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _written);

    /// <summary>Drops the contents, keeping the array for the next frame unless it grew very large.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > RetainedBytes)
        {
            Replace(ArrayPool<byte>.Shared.Rent(InitialBytes), keep: 0);
        }
    }

    /// <summary>Resets and returns exactly <paramref name="length"/> bytes to read into; they become <see cref="Written"/>.</summary>
    public Memory<byte> ResetTo(int length)
    {
        Reset();
        Ensure(length);
        _written = length;
        return _buffer.AsMemory(0, length);
    }

    /// <summary>The written bytes, writable: for a length prefix filled in once the frame after it is known.</summary>
    public Span<byte> WrittenSpan(int start, int length) => _buffer.AsSpan(0, _written).Slice(start, length);

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Advanced past the buffer's end.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        var needed = (long)_written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var size = (int)Math.Min(Array.MaxLength, Math.Max(needed, (long)_buffer.Length * 2));
        Replace(ArrayPool<byte>.Shared.Rent(size), keep: _written);
    }

    private void Replace(byte[] bigger, int keep)
    {
        _buffer.AsSpan(0, keep).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
