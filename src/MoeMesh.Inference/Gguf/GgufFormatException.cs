namespace MoeMesh.Inference.Gguf;

/// <summary>A file is not a valid GGUF file; the message names the field and the byte offset.</summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException()
    {
    }

    public GgufFormatException(string message)
        : base(message)
    {
    }

    public GgufFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public GgufFormatException(string message, long offset, string field)
        : base($"{message} (field '{field}' at byte {offset})")
    {
        Offset = offset;
        Field = field;
    }

    /// <summary>Byte offset in the file where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>The field being read, such as <c>header.tensor_count</c> or <c>tensor[3].offset</c>.</summary>
    public string Field { get; } = "";
}
