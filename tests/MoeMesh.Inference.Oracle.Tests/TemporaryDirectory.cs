namespace MoeMesh.Inference.Tests.TestSupport;

/// <summary>A folder under the system temp directory, deleted on dispose.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        Path = Directory.CreateTempSubdirectory("moemesh-oracle-tests-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A model file still mapped by llama.cpp; the OS temp cleaner takes it later.
        }
    }
}
