using MoeMesh.Inference.Llama.Native;

namespace MoeMesh.Inference.Tests.TestSupport;

/// <summary>Finds what the build fetched: the pinned llama.h and the vocab-only tokenizers.</summary>
public static class NativeAssets
{
    /// <summary>The folder holding llama.h and the ggml headers (copied next to the tests by the build).</summary>
    public static string IncludeDirectory
    {
        get
        {
            var besideTests = Path.Combine(AppContext.BaseDirectory, "llama", "include");
            if (File.Exists(Path.Combine(besideTests, "llama.h")))
            {
                return besideTests;
            }

            var root = LlamaNativeLibrary.FindRepositoryNativeRoot(AppContext.BaseDirectory)
                ?? throw new InvalidOperationException("llama.h was not found; build the solution so it fetches the pinned llama.cpp headers.");
            return Path.Combine(root, "include");
        }
    }

    /// <summary>A vocab-only GGUF from the pinned llama.cpp source, such as "llama-spm".</summary>
    public static string Vocabulary(string name)
    {
        var root = LlamaNativeLibrary.FindRepositoryNativeRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("The .native folder was not found; build the solution so it fetches the pinned llama.cpp files.");
        var path = Path.Combine(root, "vocab", $"ggml-vocab-{name}.gguf");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing; delete .native and build again.", path);
    }
}
