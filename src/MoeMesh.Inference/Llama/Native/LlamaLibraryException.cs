namespace MoeMesh.Inference.Llama.Native;

/// <summary>
/// The llama.cpp shared libraries could not be found, loaded, or are not the pinned version. The
/// message names the folders tried and what to do.
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
