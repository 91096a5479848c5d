using MoeMesh.Errors;

namespace MoeMesh.Activations;

/// <summary>An activation frame is malformed, truncated, oversized or inconsistent, and was rejected.</summary>
[GenerateSerializer]
[Alias("moemesh.activation-frame-format")]
public sealed class ActivationFrameFormatException : MoeMeshException
{
    public ActivationFrameFormatException()
    {
    }

    public ActivationFrameFormatException(string message)
        : base(message)
    {
    }

    public ActivationFrameFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
