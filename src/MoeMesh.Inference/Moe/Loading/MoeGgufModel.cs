using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Weights;

namespace MoeMesh.Inference.Moe.Loading;

/// <summary>
/// An open, validated Mixture-of-Experts GGUF: its shape, and its tensors dequantised to F32 on
/// request. A stacked expert tensor can be read one expert at a time (the expert's slice is
/// contiguous), so a shard reads only its own experts. Reads are serialised; safe to share.
/// </summary>
public sealed class MoeGgufModel : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly Lock _readLock = new();
    private readonly Dictionary<string, GgufTensorInfo> _tensors;

    private MoeGgufModel(Stream stream, bool leaveOpen, GgufFile file, MoeModelShape shape)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        File = file;
        Shape = shape;
        _tensors = file.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The GGUF header.</summary>
    public GgufFile File { get; }

    /// <summary>The model's shape.</summary>
    public MoeModelShape Shape { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public static MoeGgufModel Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        try
        {
            return Open(stream, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Validates a seekable <paramref name="stream"/> holding a GGUF; throws <see cref="GgufFormatException"/> or <see cref="MoeModelFormatException"/>.</summary>
    public static MoeGgufModel Open(Stream stream, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var file = GgufReader.Read(stream);
        var shape = MoeShapeReader.Read(file);
        MoeTensorLayout.Validate(file, shape);
        return new MoeGgufModel(stream, leaveOpen, file, shape);
    }

    /// <summary>True when the file holds <paramref name="name"/>.</summary>
    public bool HasTensor(string name) => _tensors.ContainsKey(name);

    /// <summary>Bytes <paramref name="name"/> takes in the file.</summary>
    public long TensorBytes(string name) => Tensor(name).ByteSize;

    /// <summary>The whole tensor as floats, row-major (ggml order).</summary>
    public float[] ReadTensor(string name)
    {
        var tensor = Tensor(name);
        return Read(tensor, 0, tensor.ElementCount);
    }

    /// <summary>Expert <paramref name="expert"/>'s matrix from a stacked <c>*_exps</c> tensor: rows × columns of <c>{columns, rows, E}</c>.</summary>
    public float[] ReadExpert(string name, int expert)
    {
        var tensor = Tensor(name);
        if (tensor.Shape.Count != 3)
        {
            throw new ArgumentException($"Tensor '{name}' is not a stacked expert tensor.", nameof(name));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(expert);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(expert, tensor.Shape[2]);
        var perExpert = tensor.Shape[0] * tensor.Shape[1];
        return Read(tensor, expert * perExpert, perExpert);
    }

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private GgufTensorInfo Tensor(string name) =>
        _tensors.TryGetValue(name, out var tensor) ? tensor : throw new MoeModelFormatException($"Tensor '{name}' is missing.");

    private float[] Read(GgufTensorInfo tensor, long firstElement, long count)
    {
        if (count > Array.MaxLength)
        {
            throw new MoeModelFormatException($"Tensor '{tensor.Name}' is too large to load at once ({count} elements).");
        }

        // Validation made every row whole blocks, and expert slices start on row boundaries.
        var start = GgmlTypeTraits.ByteSize(tensor.Type, firstElement)!.Value;
        var bytes = GgmlTypeTraits.ByteSize(tensor.Type, count)!.Value;
        var buffer = new byte[bytes];
        lock (_readLock)
        {
            _stream.Seek(File.DataOffset + tensor.Offset + start, SeekOrigin.Begin);
            _stream.ReadExactly(buffer);
        }

        var values = new float[count];
        GgmlDequantizer.Dequantize(tensor.Type, buffer, values);
        return values;
    }
}
