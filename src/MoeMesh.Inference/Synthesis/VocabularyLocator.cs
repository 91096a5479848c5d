using MoeMesh.Inference.Llama.Native;

namespace MoeMesh.Inference.Synthesis;

/// <summary>
/// Finds vocab-only tokenizer files: a path as given, or a short name ("llama-spm", "qwen2",
/// "phi-3", "gpt-2", …) of one of the <c>ggml-vocab-*.gguf</c> files the build fetched from the
/// pinned llama.cpp source into the repository's <c>.native</c> folder.
/// </summary>
public static class VocabularyLocator
{
    /// <summary>The full path for <paramref name="nameOrPath"/>; throws <see cref="FileNotFoundException"/> naming the known names.</summary>
    public static string Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        if (File.Exists(nameOrPath))
        {
            return Path.GetFullPath(nameOrPath);
        }

        var folder = Folder();
        if (folder is not null)
        {
            var candidate = Path.Combine(folder, $"ggml-vocab-{nameOrPath}.gguf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        var known = KnownNames();
        throw new FileNotFoundException(
            known.Count == 0
                ? $"'{nameOrPath}' is neither a file nor a known tokenizer name; build the repository to fetch llama.cpp's vocab-only tokenizers into {LlamaPinnedVersion.RepositoryNativeFolder}/vocab."
                : $"'{nameOrPath}' is neither a file nor a known tokenizer name. Known names: {string.Join(", ", known)}.",
            nameOrPath);
    }

    /// <summary>Names of the fetched vocab-only tokenizers, sorted.</summary>
    public static IReadOnlyList<string> KnownNames()
    {
        var folder = Folder();
        return folder is null
            ? []
            : [.. Directory.GetFiles(folder, "ggml-vocab-*.gguf").Select(f => Path.GetFileNameWithoutExtension(f)["ggml-vocab-".Length..]).Order(StringComparer.Ordinal)];
    }

    private static string? Folder()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            if (LlamaNativeLibrary.FindRepositoryNativeRoot(start) is { } root && Directory.Exists(Path.Combine(root, "vocab")))
            {
                return Path.Combine(root, "vocab");
            }
        }

        return null;
    }
}
