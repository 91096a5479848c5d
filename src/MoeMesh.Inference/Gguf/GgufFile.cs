namespace MoeMesh.Inference.Gguf;

/// <summary>One tensor's description in a GGUF file.</summary>
/// <param name="Name">Tensor name, such as <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Shape">Elements per dimension, fastest-varying first (ggml's <c>ne</c>).</param>
/// <param name="Type">Element type.</param>
/// <param name="Offset">Offset of the data from the start of the data section; a multiple of the alignment.</param>
/// <param name="ByteSize">Bytes of data.</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Shape, GgmlType Type, long Offset, long ByteSize)
{
    /// <summary>Total elements (the product of the shape).</summary>
    public long ElementCount => Shape.Aggregate(1L, (product, dimension) => product * dimension);
}

/// <summary>
/// The header of a GGUF file as read and validated by <see cref="GgufReader"/>: version, metadata
/// (in file order), tensor descriptions, alignment, and where the data section starts.
/// </summary>
public sealed class GgufFile
{
    /// <summary>Alignment used when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    private readonly Dictionary<string, GgufValue> _metadataByKey;

    public GgufFile(
        uint version,
        IReadOnlyList<KeyValuePair<string, GgufValue>> metadata,
        IReadOnlyList<GgufTensorInfo> tensors,
        int alignment,
        long dataOffset,
        long fileSize)
    {
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;
        FileSize = fileSize;
        _metadataByKey = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            _metadataByKey[key] = value;
        }
    }

    /// <summary>Format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Metadata key/value pairs in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; }

    /// <summary>Tensor descriptions in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Alignment of tensor data, from <c>general.alignment</c> or 32.</summary>
    public int Alignment { get; }

    /// <summary>Byte offset of the data section in the file.</summary>
    public long DataOffset { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Bytes of tensor data (without padding).</summary>
    public long TensorBytes => Tensors.Sum(t => t.ByteSize);

    /// <summary>Total elements of all tensors (the parameter count of a model).</summary>
    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    /// <summary><c>general.architecture</c>, such as "llama", or null.</summary>
    public string? Architecture => TryGetString("general.architecture");

    /// <summary><c>general.name</c>, or null.</summary>
    public string? Name => TryGetString("general.name");

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public GgufValue? this[string key] => _metadataByKey.GetValueOrDefault(key);

    public bool TryGetValue(string key, out GgufValue value)
    {
        if (_metadataByKey.TryGetValue(key, out var found))
        {
            value = found;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>The string at <paramref name="key"/>, or null when absent or not a string.</summary>
    public string? TryGetString(string key) => this[key] is { Type: GgufValueType.String } v ? v.AsString() : null;

    /// <summary>The integer at <paramref name="key"/>, or null when absent or not an integer.</summary>
    public long? TryGetInteger(string key) =>
        this[key] is { IsArray: false, Type: not (GgufValueType.String or GgufValueType.Bool or GgufValueType.Float32 or GgufValueType.Float64) } v
            ? v.AsInt64()
            : null;

    /// <summary>The number at <paramref name="key"/>, or null when absent or not a number.</summary>
    public double? TryGetNumber(string key) =>
        this[key] is { IsArray: false, Type: not (GgufValueType.String or GgufValueType.Bool) } v ? v.AsDouble() : null;

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => Tensors.FirstOrDefault(t => t.Name == name);
}
