using System.Buffers;
using System.Text;
using MessagePack;

namespace MoeMesh.Activations;

/// <summary>
/// Writes and strictly reads activation frames as MessagePack: one array of twelve fields, the
/// tensor as a single <c>bin</c> (schema in docs/activation-frames.md). Anything malformed,
/// truncated, oversized or inconsistent is rejected with <see cref="ActivationFrameFormatException"/>.
/// </summary>
public static class ActivationFrameCodec
{
    /// <summary>The schema version this codec writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Fields in the top-level array.</summary>
    public const int FieldCount = 12;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes <paramref name="frame"/> to a new array.</summary>
    public static byte[] Encode(ActivationFrame frame)
    {
        var buffer = new ArrayBufferWriter<byte>(frame.Payload.Length + 128 + (frame.ExpertIds.Length * 10) + (frame.Positions.Length * 5));
        Encode(frame, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes <paramref name="frame"/> into <paramref name="destination"/>.</summary>
    public static void Encode(ActivationFrame frame, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ActivationFrameValidator.Validate(frame, ActivationFrameLimits.Default);
        var writer = new MessagePackWriter(destination);
        WriteHeader(ref writer, frame);
        writer.Write(frame.Payload.Span);
        writer.Flush();
    }

    /// <summary>
    /// Encodes the frame <see cref="ActivationFrame.Create"/> would build from the same arguments into
    /// <paramref name="destination"/>, writing the tensor's payload in place: the same bytes as
    /// <c>Encode(ActivationFrame.Create(…), destination)</c>, without an array the size of the tensor.
    /// </summary>
    public static void Encode(
        IBufferWriter<byte> destination, ActivationFrameKind kind, string modelId, int layer, string sequenceId, int[] positions,
        ReadOnlySpan<float> hidden, int hiddenSize, ActivationDType dtype,
        int expertsPerToken = 0, int[]? expertIds = null, float[]? gateWeights = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        var header = new ActivationFrame
        {
            Kind = kind, ModelId = modelId, Layer = layer, SequenceId = sequenceId, Positions = positions, DType = dtype,
            Shape = [hidden.Length / hiddenSize, hiddenSize], ExpertsPerToken = expertsPerToken,
            ExpertIds = expertIds ?? [], GateWeights = gateWeights ?? [], Payload = ReadOnlyMemory<byte>.Empty,
        };
        var payloadBytes = hidden.Length % hiddenSize == 0 ? ActivationTensor.PayloadBytes(dtype, header.TokenCount, hiddenSize) : -1;
        ActivationFrameValidator.Validate(header, ActivationFrameLimits.Default, payloadBytes);
        var writer = new MessagePackWriter(destination);
        WriteHeader(ref writer, header);
        var length = (int)payloadBytes;
        writer.WriteBinHeader(length);
        var span = writer.GetSpan(length);
        ActivationTensor.Encode(hidden, hiddenSize, dtype, span[..length]);
        writer.Advance(length);
        writer.Flush();
    }

    /// <summary>Every field but the payload, in schema order.</summary>
    private static void WriteHeader(ref MessagePackWriter writer, ActivationFrame frame)
    {
        writer.WriteArrayHeader(FieldCount);
        writer.Write(Version);
        writer.Write((int)frame.Kind);
        writer.Write(frame.ModelId);
        writer.Write(frame.Layer);
        writer.Write(frame.SequenceId);
        WriteInts(ref writer, frame.Positions);
        writer.Write((int)frame.DType);
        WriteInts(ref writer, frame.Shape);
        writer.Write(frame.ExpertsPerToken);
        WriteInts(ref writer, frame.ExpertIds);
        writer.WriteArrayHeader(frame.GateWeights.Length);
        foreach (var w in frame.GateWeights)
        {
            writer.Write(w);
        }
    }

    /// <summary>Decodes one frame that fills <paramref name="bytes"/> exactly.</summary>
    public static ActivationFrame Decode(ReadOnlyMemory<byte> bytes, ActivationFrameLimits? limits = null)
    {
        limits ??= ActivationFrameLimits.Default;
        if (bytes.Length > limits.MaxFrameBytes)
        {
            throw new ActivationFrameFormatException($"The frame is {bytes.Length} bytes; at most {limits.MaxFrameBytes} are accepted.");
        }

        try
        {
            var reader = new MessagePackReader(bytes);
            var frame = Read(ref reader, bytes, limits);
            if (!reader.End)
            {
                throw new ActivationFrameFormatException($"The frame has {bytes.Length - reader.Consumed} bytes after its end.");
            }

            ActivationFrameValidator.Validate(frame, limits);
            return frame;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException)
        {
            throw new ActivationFrameFormatException($"The frame is not valid MessagePack of the activation-frame schema: {ex.Message}", ex);
        }
    }

    private static ActivationFrame Read(ref MessagePackReader reader, ReadOnlyMemory<byte> source, ActivationFrameLimits limits)
    {
        var fields = reader.ReadArrayHeader();
        if (fields != FieldCount)
        {
            throw new ActivationFrameFormatException($"A frame is an array of {FieldCount} fields; this one has {fields}.");
        }

        var version = reader.ReadInt32();
        if (version != Version)
        {
            throw new ActivationFrameFormatException($"Frame schema version {version} is not supported (this reader speaks {Version}).");
        }

        var kind = (ActivationFrameKind)reader.ReadInt32();
        var model = ReadId(ref reader, "model id", limits);
        var layer = reader.ReadInt32();
        var sequence = ReadId(ref reader, "sequence id", limits);
        var positions = ReadInts(ref reader, "positions", limits.MaxTokens);
        var dtype = (ActivationDType)reader.ReadInt32();
        var shape = ReadInts(ref reader, "shape", 2);
        var k = reader.ReadInt32();
        var experts = ReadInts(ref reader, "expert ids", limits.MaxTokens * limits.MaxExpertsPerToken);
        var weights = ReadFloats(ref reader, "gate weights", limits.MaxTokens * limits.MaxExpertsPerToken);
        var payloadStart = (int)reader.Consumed;
        var payload = reader.ReadBytes() ?? throw new ActivationFrameFormatException("The tensor payload is nil.");
        var payloadLength = (int)payload.Length;

        // The payload is a view of the frame's own bytes: no copy for the largest field.
        var headerBytes = (int)reader.Consumed - payloadStart - payloadLength;
        return new ActivationFrame
        {
            Kind = kind,
            ModelId = model,
            Layer = layer,
            SequenceId = sequence,
            Positions = positions,
            DType = dtype,
            Shape = shape,
            ExpertsPerToken = k,
            ExpertIds = experts,
            GateWeights = weights,
            Payload = source.Slice(payloadStart + headerBytes, payloadLength),
        };
    }

    private static string ReadId(ref MessagePackReader reader, string what, ActivationFrameLimits limits)
    {
        var bytes = reader.ReadStringSequence() ?? throw new ActivationFrameFormatException($"The {what} is nil.");
        if (bytes.Length > limits.MaxIdBytes)
        {
            throw new ActivationFrameFormatException($"The {what} is longer than {limits.MaxIdBytes} bytes.");
        }

        // Strict UTF-8: a damaged id is an error, not a string with replacement characters.
        return StrictUtf8.GetString(bytes);
    }

    private static int[] ReadInts(ref MessagePackReader reader, string what, int max)
    {
        var count = ReadCount(ref reader, what, max);
        var values = new int[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = reader.ReadInt32();
        }

        return values;
    }

    private static float[] ReadFloats(ref MessagePackReader reader, string what, int max)
    {
        var count = ReadCount(ref reader, what, max);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }

    private static int ReadCount(ref MessagePackReader reader, string what, int max)
    {
        var count = reader.ReadArrayHeader();
        if (count > max)
        {
            throw new ActivationFrameFormatException($"The {what} hold {count} entries; at most {max} are accepted.");
        }

        return count;
    }

    private static void WriteInts(ref MessagePackWriter writer, int[] values)
    {
        writer.WriteArrayHeader(values.Length);
        foreach (var v in values)
        {
            writer.Write(v);
        }
    }
}
