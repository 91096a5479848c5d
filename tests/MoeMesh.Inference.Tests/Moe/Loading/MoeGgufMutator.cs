using System.Buffers.Binary;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Synthesis;

namespace MoeMesh.Inference.Tests.Moe.Loading;

/// <summary>Malformed variants of a tiny valid MoE GGUF, and the decoder run that must reject them cleanly.</summary>
internal static class MoeGgufMutator
{
    private static readonly Lazy<(byte[] Bytes, GgufFile File)> Base = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"moe-fuzz-{Guid.NewGuid():N}.gguf");
        try
        {
            MoeSynthesizer.Write(path, new MoeSynthesisOptions
            {
                Architecture = "qwen2moe", Layers = 1, Hidden = 32, Heads = 2, Experts = 2, TopK = 1,
                ExpertFeedForward = 32, SharedFeedForward = 32, VocabularySize = 16, ContextLength = 64, WeightType = GgmlType.Q8_0,
            });
            var bytes = File.ReadAllBytes(path);
            return (bytes, GgufReader.Read(new MemoryStream(bytes)));
        }
        finally
        {
            File.Delete(path);
        }
    });

    /// <summary>The valid file the mutations start from.</summary>
    public static byte[] Valid => Base.Value.Bytes;

    /// <summary>A mutated copy of the valid file; <paramref name="kind"/> picks the mutation.</summary>
    public static byte[] Mutate(int kind, int position, long value)
    {
        var bytes = (byte[])Valid.Clone();
        var p = (int)((uint)position % (uint)bytes.Length);
        switch ((uint)kind % 6)
        {
            case 0:
                bytes[p] ^= (byte)(value | 1);
                return bytes;
            case 1:
                return bytes[..p];
            case 2:
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(Math.Min(p, bytes.Length - 8)), value);
                return bytes;
            case 3:
                // Header region: counts, lengths and types live in the first few hundred bytes.
                var q = p % Math.Min(bytes.Length, 1024);
                bytes[q] = (byte)value;
                return bytes;
            default:
                return Rewrite(kind % 2 == 0, position, value);
        }
    }

    /// <summary>Opens the bytes as an MoE model and reads every tensor; returns false when the decoder rejected the file with a format error.</summary>
    public static bool Decode(byte[] bytes)
    {
        try
        {
            using var model = MoeGgufModel.Open(new MemoryStream(bytes, writable: false), leaveOpen: false);
            foreach (var tensor in model.File.Tensors)
            {
                model.ReadTensor(tensor.Name);
            }

            return true;
        }
        catch (Exception e) when (e is GgufFormatException or MoeModelFormatException)
        {
            return false;
        }
    }

    /// <summary>A well-formed GGUF with one metadata value or one tensor's shape changed.</summary>
    private static byte[] Rewrite(bool metadata, int position, long value)
    {
        var (bytes, file) = Base.Value;
        var writer = new GgufWriter();
        var keyIndex = (int)((uint)position % (uint)file.Metadata.Count);
        var tensorIndex = (int)((uint)position % (uint)file.Tensors.Count);
        for (var i = 0; i < file.Metadata.Count; i++)
        {
            var (key, original) = file.Metadata[i];
            writer.Set(key, metadata && i == keyIndex ? Replacement(value) : original);
        }

        for (var i = 0; i < file.Tensors.Count; i++)
        {
            var tensor = file.Tensors[i];
            var data = bytes.AsMemory((int)(file.DataOffset + tensor.Offset), (int)tensor.ByteSize);
            if (!metadata && i == tensorIndex)
            {
                if (value % 3 == 0)
                {
                    continue;
                }

                var shape = tensor.Shape.ToArray();
                shape[(int)((ulong)value % (ulong)shape.Length)] = value % 2 == 0 ? 32 : 64;
                var type = value % 5 == 0 ? GgmlType.Q4_0 : tensor.Type;
                var size = GgmlTypeTraits.ByteSize(type, shape.Aggregate(1L, (a, b) => a * b)) ?? tensor.ByteSize;
                writer.AddTensor(tensor.Name, type, shape, new byte[size]);
                continue;
            }

            writer.AddTensor(tensor.Name, tensor.Type, tensor.Shape, data);
        }

        using var output = new MemoryStream();
        writer.WriteTo(output);
        return output.ToArray();
    }

    private static GgufValue Replacement(long value) => ((ulong)value % 5) switch
    {
        0 => GgufValue.FromUInt32((uint)value),
        1 => GgufValue.FromInt32((int)(value >> 7)),
        2 => GgufValue.FromFloat32(BitConverter.Int32BitsToSingle((int)value)),
        3 => GgufValue.FromString("qwen3moe"),
        _ => GgufValue.FromUInt64((ulong)value),
    };
}
