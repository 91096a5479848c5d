using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Checks a GGUF file's metadata for values that llama.cpp does not validate before it relies on
/// them (an assertion or an out-of-range read would end the process): token tables of different
/// lengths, special token ids outside the vocabulary, head counts that do not divide the hidden
/// size, a RoPE size that differs from the head size. The GGUF structure itself (lengths, offsets,
/// tensor bounds) is already checked by <see cref="GgufReader"/>.
/// </summary>
internal static class LlamaModelPreflight
{
    public static IReadOnlyList<string> Check(GgufFile file)
    {
        var problems = new List<string>();
        var architecture = file.Architecture;
        if (string.IsNullOrWhiteSpace(architecture))
        {
            problems.Add("'general.architecture' is missing, so llama.cpp cannot tell which model this is");
            return problems;
        }

        if (file.Tensors.Count == 0)
        {
            problems.Add("the file has no tensors (a vocab-only file cannot generate text)");
        }

        CheckShape(file, architecture, problems);
        var tokens = CheckTokenizer(file, problems);

        var vocabularySize = file.TryGetInteger($"{architecture}.vocab_size");
        if (vocabularySize is not null && tokens is not null && vocabularySize > tokens.ArrayLength)
        {
            problems.Add($"'{architecture}.vocab_size' ({vocabularySize}) is larger than the token list ({tokens.ArrayLength})");
        }

        return problems;
    }

    /// <summary>Layer count, width and attention heads: sizes llama.cpp divides by or allocates from.</summary>
    private static void CheckShape(GgufFile file, string architecture, List<string> problems)
    {
        var blocks = file.TryGetInteger($"{architecture}.block_count");
        if (blocks is not null and (< 1 or > 4096))
        {
            problems.Add($"'{architecture}.block_count' is {blocks}");
        }

        var embedding = file.TryGetInteger($"{architecture}.embedding_length");
        if (embedding is not null and (< 1 or > 1 << 20))
        {
            problems.Add($"'{architecture}.embedding_length' is {embedding}");
        }

        var heads = file.TryGetInteger($"{architecture}.attention.head_count");
        var keyValueHeads = file.TryGetInteger($"{architecture}.attention.head_count_kv");
        var keyLength = file.TryGetInteger($"{architecture}.attention.key_length");
        var rope = file.TryGetInteger($"{architecture}.rope.dimension_count");
        if (heads is not null and (< 0 or > 1 << 16))
        {
            problems.Add($"'{architecture}.attention.head_count' is {heads}");
        }
        else if (heads > 0)
        {
            if (keyValueHeads is not null && (keyValueHeads < 0 || (keyValueHeads > 0 && heads % keyValueHeads != 0)))
            {
                problems.Add($"'{architecture}.attention.head_count_kv' ({keyValueHeads}) does not divide head_count ({heads})");
            }

            if (keyLength is null && embedding > 0 && embedding % heads != 0)
            {
                problems.Add($"head_count ({heads}) does not divide embedding_length ({embedding})");
            }

            var headSize = keyLength ?? (embedding > 0 ? embedding / heads : null);
            if (architecture == "llama" && rope is not null && headSize is not null && rope != headSize)
            {
                problems.Add($"'{architecture}.rope.dimension_count' ({rope}) differs from the head size ({headSize})");
            }
        }
    }

    /// <summary>The token tables agree in length and every special token id is inside the vocabulary; returns the token list when usable.</summary>
    private static GgufValue? CheckTokenizer(GgufFile file, List<string> problems)
    {
        var tokens = file["tokenizer.ggml.tokens"];
        if (tokens is null)
        {
            return null;
        }

        if (tokens is not { IsArray: true, ElementType: GgufValueType.String })
        {
            problems.Add("'tokenizer.ggml.tokens' is not an array of strings");
            return null;
        }

        var count = tokens.ArrayLength;
        if (count == 0)
        {
            problems.Add("'tokenizer.ggml.tokens' is empty");
        }

        foreach (var (key, type) in new[] { ("tokenizer.ggml.scores", GgufValueType.Float32), ("tokenizer.ggml.token_type", GgufValueType.Int32) })
        {
            if (file[key] is { } table && (!table.IsArray || table.ElementType != type || table.ArrayLength != count))
            {
                problems.Add($"'{key}' must be an array of {count} {type} values (one per token), got {(table.IsArray ? $"{table.ArrayLength} {table.ElementType}" : table.Type.ToString())}");
            }
        }

        if (file["tokenizer.ggml.merges"] is { } merges && merges is not { IsArray: true, ElementType: GgufValueType.String })
        {
            problems.Add("'tokenizer.ggml.merges' is not an array of strings");
        }

        foreach (var (key, _) in file.Metadata)
        {
            if (key.StartsWith("tokenizer.ggml.", StringComparison.Ordinal) && key.EndsWith("_token_id", StringComparison.Ordinal)
                && file.TryGetInteger(key) is { } id && (id < -1 || id >= count))
            {
                problems.Add($"'{key}' is {id}, outside the vocabulary of {count} tokens");
            }
        }

        return tokens;
    }
}
