using System.Runtime.InteropServices;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Synthesis;

/// <summary>What <see cref="TinyLlamaSynthesizer.Write"/> produced.</summary>
/// <param name="Path">Full path of the GGUF file.</param>
/// <param name="FileBytes">Size of the file.</param>
/// <param name="ParameterCount">Elements of all tensors.</param>
/// <param name="VocabularySize">Tokens in the vocabulary.</param>
/// <param name="Options">The options the model was made with.</param>
public sealed record SynthesizedModel(string Path, long FileBytes, long ParameterCount, int VocabularySize, TinyLlamaOptions Options);

/// <summary>
/// Writes tiny llama-architecture GGUF models with seeded random weights, for tests, demos and
/// benchmarks on machines without real model files. llama.cpp loads and runs them like any llama.
///
/// The weights are shaped so that greedy decoding is well conditioned: the output matrix maps each
/// token's embedding to a fixed successor token with a wide logit margin, and the attention and
/// feed-forward layers (scaled by <see cref="TinyLlamaOptions.ContextInfluence"/>) steer away from
/// that chain depending on context. The margins make the argmax insensitive to the rounding
/// differences between batched and sequential decoding, while the output still depends on the prompt.
/// </summary>
public static class TinyLlamaSynthesizer
{
    /// <summary>Writes a model to <paramref name="path"/> (through a temporary file) and returns its description.</summary>
    public static SynthesizedModel Write(string path, TinyLlamaOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid model options: {string.Join("; ", problems)}.", nameof(options));
        }

        var writer = new GgufWriter();
        var tokenizer = options.VocabularyPath is null ? BuiltInTokenizer(options) : CopiedTokenizer(options.VocabularyPath);
        var d = options.EmbeddingLength;
        var vocabularySize = tokenizer.Tokens.Length;
        var headSize = d / options.HeadCount;
        var keyValueSize = headSize * options.EffectiveKeyValueHeadCount;
        var ff = options.EffectiveFeedForwardLength;

        WriteMetadata(writer, options, tokenizer, vocabularySize, headSize, ff);

        var embeddings = RandomEmbeddings(vocabularySize, d, options.Seed);
        var predecessor = SuccessorChain(tokenizer.Tokens, tokenizer.TokenTypes, options.Seed);
        var type = options.WeightType;

        writer.AddTensor("token_embd.weight", type, [d, vocabularySize], stream => WriteRows(stream, type, vocabularySize, d, (r, row) => embeddings.AsSpan(r * d, d).CopyTo(row)));
        AddLayers(writer, options, type, keyValueSize, ff);

        AddOnes(writer, "output_norm.weight", d);

        // Output row v is the embedding of v's predecessor in the chain: a hidden state close to
        // token t's embedding scores t's successor highest, by a margin of about sqrt(d) standard
        // deviations. Tokens outside the chain (control tokens, unused bytes) get zero rows and are never
        // the argmax.
        var outputScale = 1f / MathF.Sqrt(d);
        writer.AddTensor("output.weight", type, [d, vocabularySize], stream => WriteRows(stream, type, vocabularySize, d, (r, row) =>
        {
            if (predecessor[r] < 0)
            {
                row.Clear();
                return;
            }

            var source = embeddings.AsSpan(predecessor[r] * d, d);
            for (var i = 0; i < d; i++)
            {
                row[i] = source[i] * outputScale;
            }
        }));

        writer.WriteTo(path);
        var full = System.IO.Path.GetFullPath(path);
        var parameters = (long)vocabularySize * d * 2 + d
            + (long)options.Layers * (2L * d + 2L * d * d + 2L * d * keyValueSize + 3L * d * ff);
        return new SynthesizedModel(full, new FileInfo(full).Length, parameters, vocabularySize, options);
    }

    private static void WriteMetadata(GgufWriter writer, TinyLlamaOptions options, TokenizerMetadata tokenizer, int vocabularySize, int headSize, int ff)
    {
        var d = options.EmbeddingLength;
        writer.Set("general.architecture", "llama");
        writer.Set("general.name", options.Name);
        writer.Set("general.file_type", options.WeightType == GgmlType.F16 ? 1u : 0u);
        writer.Set("moemesh.synthesis.seed", GgufValue.FromUInt64(options.Seed));
        writer.Set("moemesh.synthesis.context_influence", options.ContextInfluence);
        writer.Set("llama.vocab_size", (uint)vocabularySize);
        writer.Set("llama.context_length", (uint)options.ContextLength);
        writer.Set("llama.embedding_length", (uint)d);
        writer.Set("llama.block_count", (uint)options.Layers);
        writer.Set("llama.feed_forward_length", (uint)ff);
        writer.Set("llama.attention.head_count", (uint)options.HeadCount);
        writer.Set("llama.attention.head_count_kv", (uint)options.EffectiveKeyValueHeadCount);
        writer.Set("llama.attention.layer_norm_rms_epsilon", options.RmsNormEpsilon);
        writer.Set("llama.rope.dimension_count", (uint)headSize);
        writer.Set("llama.rope.freq_base", options.RopeFrequencyBase);
        foreach (var (key, value) in tokenizer.Metadata)
        {
            writer.Set(key, value);
        }

        if (options.ChatTemplate is not null && !tokenizer.Metadata.Any(kv => kv.Key == "tokenizer.chat_template"))
        {
            writer.Set("tokenizer.chat_template", options.ChatTemplate);
        }
    }

    /// <summary>Token embeddings: random directions of norm sqrt(d), so RMS normalisation leaves them as they are.</summary>
    private static float[] RandomEmbeddings(int vocabularySize, int d, ulong seed)
    {
        var embeddings = new float[(long)vocabularySize * d];
        var random = new SynthesisRandom(seed ^ 0x5EED_0001UL);
        for (var token = 0; token < vocabularySize; token++)
        {
            var row = embeddings.AsSpan(token * d, d);
            double squares = 0;
            for (var i = 0; i < d; i++)
            {
                row[i] = random.NextNormal();
                squares += row[i] * (double)row[i];
            }

            var scale = (float)Math.Sqrt(d / Math.Max(squares, 1e-12));
            for (var i = 0; i < d; i++)
            {
                row[i] *= scale;
            }
        }

        return embeddings;
    }

    private static void AddLayers(GgufWriter writer, TinyLlamaOptions options, GgmlType type, int keyValueSize, int ff)
    {
        var d = options.EmbeddingLength;
        var tensorIndex = 0;
        for (var layer = 0; layer < options.Layers; layer++)
        {
            // The chain's logit margin grows with sqrt(d); scaling the layers' contribution the same
            // way keeps "influence 1 = context about as strong as the chain" for every hidden size.
            var gain = options.ContextInfluence * MathF.Sqrt(d) / 2.5f / MathF.Sqrt(2f * options.Layers);
            AddOnes(writer, $"blk.{layer}.attn_norm.weight", d);
            AddRandom(writer, $"blk.{layer}.attn_q.weight", type, d, d, 1f, options.Seed, ++tensorIndex);
            AddRandom(writer, $"blk.{layer}.attn_k.weight", type, d, keyValueSize, 1f, options.Seed, ++tensorIndex);
            AddRandom(writer, $"blk.{layer}.attn_v.weight", type, d, keyValueSize, 1f, options.Seed, ++tensorIndex);
            AddRandom(writer, $"blk.{layer}.attn_output.weight", type, d, d, gain, options.Seed, ++tensorIndex);
            AddOnes(writer, $"blk.{layer}.ffn_norm.weight", d);
            AddRandom(writer, $"blk.{layer}.ffn_gate.weight", type, d, ff, 1f, options.Seed, ++tensorIndex);
            AddRandom(writer, $"blk.{layer}.ffn_up.weight", type, d, ff, 1f, options.Seed, ++tensorIndex);
            AddRandom(writer, $"blk.{layer}.ffn_down.weight", type, ff, d, gain, options.Seed, ++tensorIndex);
        }
    }

    /// <summary>Multi-byte characters spelled with byte tokens inside the chain, so generated text crosses token boundaries mid-character.</summary>
    private static readonly byte[][] MultiByteRuns = ["é"u8.ToArray(), "€"u8.ToArray(), "😀"u8.ToArray()];

    /// <summary>
    /// A random cycle through the tokens that may be generated: the normal text pieces, plus a few
    /// multi-byte characters written as runs of byte tokens (when the vocabulary has them). Returns,
    /// for each token, its predecessor in the cycle, or -1 for tokens outside it.
    /// </summary>
    private static int[] SuccessorChain(string[] tokens, int[] tokenTypes, ulong seed)
    {
        var random = new SynthesisRandom(seed ^ 0xC4A1_0002UL);
        var normal = Enumerable.Range(0, tokenTypes.Length).Where(t => tokenTypes[t] == (int)SynthesisTokenType.Normal).ToArray();
        for (var i = normal.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (normal[i], normal[j]) = (normal[j], normal[i]);
        }

        var byteTokens = new Dictionary<byte, int>();
        for (var t = 0; t < tokens.Length; t++)
        {
            if (tokenTypes[t] == (int)SynthesisTokenType.Byte && tokens[t].Length == 6 && tokens[t].StartsWith("<0x", StringComparison.Ordinal)
                && byte.TryParse(tokens[t].AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var value))
            {
                byteTokens[value] = t;
            }
        }

        var chain = normal.ToList();
        foreach (var run in MultiByteRuns)
        {
            if (chain.Count > 0 && run.All(byteTokens.ContainsKey))
            {
                chain.InsertRange(random.NextInt(chain.Count), run.Select(b => byteTokens[b]));
            }
        }

        var members = chain.ToArray();

        var predecessor = new int[tokenTypes.Length];
        Array.Fill(predecessor, -1);
        for (var i = 0; i < members.Length; i++)
        {
            predecessor[members[i]] = members[(i + members.Length - 1) % members.Length];
        }

        return predecessor;
    }

    private static void AddOnes(GgufWriter writer, string name, int length)
    {
        var ones = new float[length];
        Array.Fill(ones, 1f);
        writer.AddTensor(name, GgmlType.F32, [length], MemoryMarshal.AsBytes(ones.AsSpan()).ToArray());
    }

    /// <summary>A [rows × columns] matrix (ggml shape {columns, rows}) of normal weights with standard deviation gain/sqrt(columns).</summary>
    private static void AddRandom(GgufWriter writer, string name, GgmlType type, int columns, int rows, float gain, ulong seed, int tensorIndex)
    {
        // Each tensor has its own stream, so a tensor's weights do not depend on the ones before it.
        var scale = gain / MathF.Sqrt(columns);
        writer.AddTensor(name, type, [columns, rows], stream =>
        {
            var random = new SynthesisRandom(seed * 0x9E3779B97F4A7C15UL + (ulong)tensorIndex);
            WriteRows(stream, type, rows, columns, (_, row) =>
            {
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = random.NextNormal() * scale;
                }
            });
        });
    }

    private delegate void RowFiller(int row, Span<float> values);

    private static void WriteRows(Stream stream, GgmlType type, int rows, int columns, RowFiller fill)
    {
        var values = new float[columns];
        var bytes = new byte[columns * (type == GgmlType.F16 ? 2 : 4)];
        for (var r = 0; r < rows; r++)
        {
            fill(r, values);
            if (type == GgmlType.F16)
            {
                var halves = MemoryMarshal.Cast<byte, Half>(bytes.AsSpan());
                for (var i = 0; i < columns; i++)
                {
                    halves[i] = (Half)values[i];
                }
            }
            else
            {
                MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes);
            }

            stream.Write(bytes);
        }
    }

    private sealed record TokenizerMetadata(IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata, string[] Tokens, int[] TokenTypes);

    private static TokenizerMetadata BuiltInTokenizer(TinyLlamaOptions options)
    {
        var vocabulary = ByteFallbackVocabulary.Build(options.VocabularySize);
        var types = vocabulary.Types.Select(t => (int)t).ToArray();
        List<KeyValuePair<string, GgufValue>> metadata =
        [
            new("tokenizer.ggml.model", GgufValue.FromString("llama")),
            new("tokenizer.ggml.tokens", GgufValue.FromArray(vocabulary.Tokens.ToArray())),
            new("tokenizer.ggml.scores", GgufValue.FromArray(vocabulary.Scores.ToArray())),
            new("tokenizer.ggml.token_type", GgufValue.FromArray(types)),
            new("tokenizer.ggml.bos_token_id", GgufValue.FromUInt32(ByteFallbackVocabulary.BeginId)),
            new("tokenizer.ggml.eos_token_id", GgufValue.FromUInt32(ByteFallbackVocabulary.EndId)),
            new("tokenizer.ggml.unknown_token_id", GgufValue.FromUInt32(ByteFallbackVocabulary.UnknownId)),
            new("tokenizer.ggml.add_bos_token", GgufValue.FromBool(true)),
            new("tokenizer.ggml.add_eos_token", GgufValue.FromBool(false)),
            new("tokenizer.ggml.add_space_prefix", GgufValue.FromBool(true)),
        ];
        return new TokenizerMetadata(metadata, [.. vocabulary.Tokens], types);
    }

    private static TokenizerMetadata CopiedTokenizer(string vocabularyPath)
    {
        var source = GgufReader.Read(vocabularyPath);
        var metadata = source.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        if (source["tokenizer.ggml.tokens"] is not { IsArray: true, ElementType: GgufValueType.String } tokens || tokens.ArrayLength == 0)
        {
            throw new ArgumentException($"'{vocabularyPath}' has no tokenizer.ggml.tokens; pass a GGUF that carries a tokenizer (a model or a vocab-only file).", nameof(vocabularyPath));
        }

        var count = tokens.ArrayLength;
        int[] types;
        if (source["tokenizer.ggml.token_type"] is { IsArray: true, ElementType: GgufValueType.Int32 } typeValue && typeValue.ArrayLength == count)
        {
            types = typeValue.AsArray<int>();
        }
        else
        {
            types = new int[count];
            Array.Fill(types, (int)SynthesisTokenType.Normal);
        }

        return new TokenizerMetadata(metadata, tokens.AsArray<string>(), types);
    }
}
