namespace MoeMesh.Inference.Moe.Loading;

/// <summary>A GGUF file is valid GGUF but not a Mixture-of-Experts model MoeMesh can run; the message says what is wrong.</summary>
public sealed class MoeModelFormatException : Exception
{
    public MoeModelFormatException()
    {
    }

    public MoeModelFormatException(string message)
        : base(message)
    {
    }

    public MoeModelFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
