using System.Buffers.Binary;
using System.Text;

namespace MoeMesh.Inference.Gguf;

/// <summary>
/// Writes GGUF files (version 3 by default): metadata in insertion order, tensor descriptions with
/// offsets laid out contiguously at the alignment, then the data. Tensor data comes from memory or
/// from a callback that streams it, so large synthesized models never sit in memory whole.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];

    /// <param name="version">Format version to write: 2 or 3.</param>
    /// <param name="alignment">Data alignment; a power of two. A value other than 32 is recorded in <c>general.alignment</c>.</param>
    public GgufWriter(uint version = GgufReader.MaxVersion, int alignment = GgufFile.DefaultAlignment)
    {
        if (version is < GgufReader.MinVersion or > GgufReader.MaxVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, $"Only GGUF versions {GgufReader.MinVersion} and {GgufReader.MaxVersion} can be written.");
        }

        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        }

        Version = version;
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment)
        {
            Set("general.alignment", GgufValue.FromUInt32((uint)alignment));
        }
    }

    public uint Version { get; }

    public int Alignment { get; }

    /// <summary>Metadata set so far, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    /// <summary>Sets <paramref name="key"/>, replacing an earlier value in place.</summary>
    public GgufWriter Set(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == "general.alignment" && (value.Type != GgufValueType.UInt32 || (uint)value.RawValue != Alignment))
        {
            throw new ArgumentException("'general.alignment' follows the writer's alignment; pass the alignment to the constructor instead.", nameof(value));
        }

        var index = _metadata.FindIndex(kv => kv.Key == key);
        if (index >= 0)
        {
            _metadata[index] = new(key, value);
        }
        else
        {
            _metadata.Add(new(key, value));
        }

        return this;
    }

    public GgufWriter Set(string key, string value) => Set(key, GgufValue.FromString(value));

    public GgufWriter Set(string key, uint value) => Set(key, GgufValue.FromUInt32(value));

    public GgufWriter Set(string key, int value) => Set(key, GgufValue.FromInt32(value));

    public GgufWriter Set(string key, float value) => Set(key, GgufValue.FromFloat32(value));

    public GgufWriter Set(string key, bool value) => Set(key, GgufValue.FromBool(value));

    /// <summary>Adds a tensor whose data is in memory.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        var size = CheckTensor(name, type, shape);
        if (data.Length != size)
        {
            throw new ArgumentException($"Tensor '{name}' needs {size} bytes of data, got {data.Length}.", nameof(data));
        }

        _tensors.Add(new PendingTensor(name, type, [.. shape], size, stream => stream.Write(data.Span)));
        return this;
    }

    /// <summary>Adds a tensor whose data <paramref name="writeData"/> streams when the file is written; it must write exactly the tensor's size.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, IReadOnlyList<long> shape, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        var size = CheckTensor(name, type, shape);
        _tensors.Add(new PendingTensor(name, type, [.. shape], size, writeData));
        return this;
    }

    /// <summary>Writes the file to <paramref name="path"/> through a temporary file, so a reader never sees half a model.</summary>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(stream);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new MemoryStream();
        WriteUInt32(header, GgufReader.Magic);
        WriteUInt32(header, Version);
        WriteUInt64(header, (ulong)_tensors.Count);
        WriteUInt64(header, (ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, key);
            WriteUInt32(header, (uint)value.Type);
            WriteValue(header, value);
        }

        long offset = 0;
        foreach (var tensor in _tensors)
        {
            WriteString(header, tensor.Name);
            WriteUInt32(header, (uint)tensor.Shape.Length);
            foreach (var dimension in tensor.Shape)
            {
                WriteUInt64(header, (ulong)dimension);
            }

            WriteUInt32(header, (uint)tensor.Type);
            WriteUInt64(header, (ulong)offset);
            offset = AlignUp(offset + tensor.ByteSize);
        }

        header.WriteTo(stream);
        WritePadding(stream, header.Length);

        foreach (var tensor in _tensors)
        {
            var counting = new CountingStream(stream);
            tensor.WriteData(counting);
            if (counting.Written != tensor.ByteSize)
            {
                throw new InvalidOperationException($"Tensor '{tensor.Name}' wrote {counting.Written} bytes of data; it needs {tensor.ByteSize}.");
            }

            WritePadding(stream, tensor.ByteSize);
        }

        stream.Flush();
    }

    private long CheckTensor(string name, GgmlType type, IReadOnlyList<long> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (Encoding.UTF8.GetByteCount(name) > GgufReadLimits.Default.MaxTensorNameBytes)
        {
            throw new ArgumentException($"Tensor name '{name}' is longer than {GgufReadLimits.Default.MaxTensorNameBytes} bytes.", nameof(name));
        }

        if (_tensors.Any(t => t.Name == name))
        {
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        }

        if (shape.Count is 0 or > 4 || shape.Any(d => d < 0))
        {
            throw new ArgumentException($"Tensor '{name}' needs 1 to 4 non-negative dimensions.", nameof(shape));
        }

        var elements = shape.Aggregate(1L, (product, dimension) => checked(product * dimension));
        if (!GgmlTypeTraits.TryGetBlock(type, out var blockSize, out _) || shape[0] % blockSize != 0)
        {
            throw new ArgumentException($"Tensor '{name}' of type {type} needs rows that are a whole number of blocks.", nameof(type));
        }

        return GgmlTypeTraits.ByteSize(type, elements) ?? throw new ArgumentException($"Tensor '{name}' is too large.", nameof(shape));
    }

    private long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private void WritePadding(Stream stream, long written)
    {
        var padding = (int)(AlignUp(written) - written);
        Span<byte> zeros = stackalloc byte[padding];
        zeros.Clear();
        stream.Write(zeros);
    }

    private static void WriteValue(Stream stream, GgufValue value)
    {
        switch (value.RawValue)
        {
            case Array array:
                WriteUInt32(stream, (uint)value.ElementType);
                WriteUInt64(stream, (ulong)array.Length);
                WriteArrayItems(stream, value.ElementType, array);
                break;
            default:
                WriteScalar(stream, value.Type, value.RawValue);
                break;
        }
    }

    private static void WriteArrayItems(Stream stream, GgufValueType elementType, Array array)
    {
        switch (array)
        {
            case byte[] bytes:
                stream.Write(bytes);
                return;
            case float[] floats:
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.AsSpan()));
                return;
            case int[] ints:
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ints.AsSpan()));
                return;
            case GgufValue[] nested:
                foreach (var item in nested)
                {
                    WriteValue(stream, item);
                }

                return;
            default:
                foreach (var item in array)
                {
                    WriteScalar(stream, elementType, item!);
                }

                return;
        }
    }

    private static void WriteScalar(Stream stream, GgufValueType type, object value)
    {
        Span<byte> buffer = stackalloc byte[8];
        switch (type)
        {
            case GgufValueType.UInt8: stream.WriteByte((byte)value); break;
            case GgufValueType.Int8: stream.WriteByte((byte)(sbyte)value); break;
            case GgufValueType.Bool: stream.WriteByte((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)value); stream.Write(buffer[..2]); break;
            case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(buffer, (short)value); stream.Write(buffer[..2]); break;
            case GgufValueType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)value); stream.Write(buffer[..4]); break;
            case GgufValueType.Int32: BinaryPrimitives.WriteInt32LittleEndian(buffer, (int)value); stream.Write(buffer[..4]); break;
            case GgufValueType.Float32: BinaryPrimitives.WriteSingleLittleEndian(buffer, (float)value); stream.Write(buffer[..4]); break;
            case GgufValueType.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(buffer, (ulong)value); stream.Write(buffer); break;
            case GgufValueType.Int64: BinaryPrimitives.WriteInt64LittleEndian(buffer, (long)value); stream.Write(buffer); break;
            case GgufValueType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(buffer, (double)value); stream.Write(buffer); break;
            case GgufValueType.String: WriteString(stream, (string)value); break;
            default: throw new InvalidOperationException($"Unhandled GGUF type {type}.");
        }
    }

    private static void WriteString(Stream stream, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteUInt64(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        stream.Write(buffer);
    }

    private static void WriteUInt64(Stream stream, ulong value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
        stream.Write(buffer);
    }

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, long ByteSize, Action<Stream> WriteData);

    /// <summary>Passes writes through and counts them, to check a tensor callback wrote its full size.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Written;
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }
    }
}
