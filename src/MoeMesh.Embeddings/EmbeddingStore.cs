using System.Buffers.Binary;
using System.Text;

namespace MoeMesh.Embeddings;

/// <summary>
/// Reads and writes a file of embeddings keyed by integer id: an 8-byte magic, the model id, the
/// dimension and the count, then each id followed by its vector (little-endian float32).
/// </summary>
public static class EmbeddingStore
{
    private static readonly byte[] Magic = "MMEMBED1"u8.ToArray();

    /// <summary>Writes <paramref name="vectors"/> to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public static void Write(string path, string modelId, int dimension, IReadOnlyDictionary<int, float[]> vectors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        ArgumentNullException.ThrowIfNull(vectors);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        var temporary = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temporary), Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(modelId);
            writer.Write(dimension);
            writer.Write(vectors.Count);
            foreach (var (id, vector) in vectors.OrderBy(p => p.Key))
            {
                if (vector.Length != dimension)
                {
                    throw new ArgumentException($"vector {id} has {vector.Length} dimensions, expected {dimension}", nameof(vectors));
                }

                writer.Write(id);
                var bytes = new byte[dimension * sizeof(float)];
                for (var d = 0; d < dimension; d++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(d * sizeof(float)), vector[d]);
                }

                writer.Write(bytes);
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Write"/>; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static (string ModelId, int Dimension, Dictionary<int, float[]> Vectors) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            var magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException($"{path} is not an embedding file (bad magic)");
            }

            var modelId = reader.ReadString();
            var dimension = reader.ReadInt32();
            var count = reader.ReadInt32();
            var expected = count * (sizeof(int) + ((long)dimension * sizeof(float)));
            if (dimension is < 1 or > 65_536 || count < 0 || stream.Length - stream.Position != expected)
            {
                throw new InvalidDataException($"{path} is damaged: header says {count} vectors of {dimension} dimensions, but the file holds {stream.Length - stream.Position} bytes of them");
            }

            var vectors = new Dictionary<int, float[]>(count);
            var bytes = new byte[dimension * sizeof(float)];
            for (var i = 0; i < count; i++)
            {
                var id = reader.ReadInt32();
                reader.BaseStream.ReadExactly(bytes);
                var vector = new float[dimension];
                for (var d = 0; d < dimension; d++)
                {
                    vector[d] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(d * sizeof(float)));
                }

                if (!vectors.TryAdd(id, vector))
                {
                    throw new InvalidDataException($"{path} is damaged: id {id} appears twice");
                }
            }

            return (modelId, dimension, vectors);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path} is truncated", e);
        }
    }
}
