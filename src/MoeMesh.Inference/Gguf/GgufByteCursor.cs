using System.Buffers.Binary;
using System.Text;

namespace MoeMesh.Inference.Gguf;

/// <summary>
/// Buffered little-endian reads of a GGUF header. Every length is checked against the bytes left
/// in the file and <see cref="GgufReadLimits"/> before anything is allocated, and every error names
/// the field and its offset.
/// </summary>
internal sealed class GgufByteCursor(Stream stream, GgufReadLimits limits)
{
    private const int BufferSize = 64 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly long _start = stream.Position;
    private readonly long _length = stream.Length - stream.Position;
    private int _bufferStart;
    private int _bufferEnd;
    private long _bufferFileOffset;

    public GgufReadLimits Limits => limits;

    /// <summary>Bytes from the start of the GGUF data to the end of the stream.</summary>
    public long Length => _length;

    /// <summary>Where the GGUF data starts in the stream.</summary>
    public long Start => _start;

    /// <summary>Offset of the next byte to read, from the start of the GGUF data.</summary>
    public long Position => _bufferFileOffset + _bufferStart;

    public long Remaining => _length - Position;

    public GgufValueType ReadValueType(string field, long offset)
    {
        var raw = ReadUInt32(field);
        if (raw > (uint)GgufValueType.Float64)
        {
            throw Error($"Unknown GGUF value type {raw}", offset, field);
        }

        return (GgufValueType)raw;
    }

    public long ReadCount(string field, long limit, int minBytesEach, string what)
    {
        var offset = Position;
        var count = ReadUInt64(field);
        var fits = Remaining / minBytesEach;
        if (count > (ulong)limit || count > (ulong)fits)
        {
            throw Error(
                $"The file declares {count} {what}; at most {Math.Min(limit, fits)} are possible here (limit {limit}, {Remaining} bytes left)",
                offset,
                field);
        }

        return (long)count;
    }

    public bool ReadBool(string field)
    {
        var offset = Position;
        var b = ReadBytes(1, field)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw Error($"Boolean value is {b}; it must be 0 or 1", offset, field),
        };
    }

    public string ReadString(string field)
    {
        var offset = Position;
        var size = ReadUInt64(field);
        if (size > (ulong)limits.MaxStringBytes || size > (ulong)Remaining)
        {
            throw Error($"String of {size} bytes does not fit (limit {limits.MaxStringBytes}, {Remaining} bytes left)", offset, field);
        }

        if (size == 0)
        {
            return "";
        }

        var bytes = ReadBytes((int)size, field);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new GgufFormatException($"String is not valid UTF-8: {e.Message}", _start + offset, field);
        }
    }

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, field));

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8, field));

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        if (count > Remaining)
        {
            throw Error($"The file ends after {_length} bytes, in the middle of this field (truncated file?)", Position, field);
        }

        if (count > BufferSize)
        {
            // Large blocks bypass the buffer.
            var large = new byte[count];
            var copied = _bufferEnd - _bufferStart;
            _buffer.AsSpan(_bufferStart, copied).CopyTo(large);
            stream.Position = _start + _bufferFileOffset + _bufferEnd;
            stream.ReadExactly(large, copied, count - copied);
            _bufferFileOffset += _bufferEnd + (count - copied);
            _bufferStart = _bufferEnd = 0;
            return large;
        }

        if (_bufferEnd - _bufferStart < count)
        {
            Fill(count);
        }

        var span = _buffer.AsSpan(_bufferStart, count);
        _bufferStart += count;
        return span;
    }

    private void Fill(int needed)
    {
        var kept = _bufferEnd - _bufferStart;
        Buffer.BlockCopy(_buffer, _bufferStart, _buffer, 0, kept);
        _bufferFileOffset += _bufferStart;
        _bufferStart = 0;
        _bufferEnd = kept;
        stream.Position = _start + _bufferFileOffset + _bufferEnd;
        var wanted = (int)Math.Min(BufferSize - _bufferEnd, _length - (_bufferFileOffset + _bufferEnd));
        stream.ReadExactly(_buffer, _bufferEnd, wanted);
        _bufferEnd += wanted;
        if (_bufferEnd < needed)
        {
            throw new InvalidOperationException("The GGUF stream returned fewer bytes than its length promised.");
        }
    }

    public GgufFormatException Error(string message, long offset, string field) => new(message, _start + offset, field);
}
