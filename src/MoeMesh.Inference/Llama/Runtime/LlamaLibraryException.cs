namespace MoeMesh.Inference.Llama.Runtime;

/// <summary>
/// The llama.cpp native library could not be found, loaded, or is not the build LLamaSharp is
/// written for. The message names what was expected and what to do.
/// </summary>
public sealed class LlamaLibraryException : Exception
{
    public LlamaLibraryException()
    {
    }

    public LlamaLibraryException(string message)
        : base(message)
    {
    }

    public LlamaLibraryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
