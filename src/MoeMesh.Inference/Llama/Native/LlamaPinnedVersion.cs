namespace MoeMesh.Inference.Llama.Native;

/// <summary>The one llama.cpp build the binding is written against.</summary>
public static class LlamaPinnedVersion
{
    /// <summary>The node-llama-cpp release whose prebuilt libraries are fetched.</summary>
    public const string PackageVersion = "3.22.1";

    /// <summary>The llama.cpp release tag those libraries were built from.</summary>
    public const string Release = "v0.5.0";

    /// <summary>What <c>llama_version()</c> of that release starts with.</summary>
    public const string VersionPrefix = "0.5.0";

    /// <summary>Environment variable naming a folder that holds another build of the same version (CUDA, Jetson).</summary>
    public const string LibraryDirectoryVariable = "MOEMESH_LLAMA_LIB_DIR";

    /// <summary>Folder, under the repository root, that the build fetches the pinned release into.</summary>
    public const string RepositoryNativeFolder = ".native/llama.cpp-" + Release;

    /// <summary>Folder, under the application's base directory, that the build copies the libraries into.</summary>
    public const string ApplicationFolder = "llama";

    /// <summary>The npm package holding the prebuilt libraries for <paramref name="rid"/>.</summary>
    public static string PackageFor(string rid) => $"@node-llama-cpp/{rid}@{PackageVersion}";
}
