using System.Runtime.InteropServices;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Weights;
using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Inference.Moe.Synthesis;

/// <summary>What <see cref="MoeSynthesizer.Write"/> produced.</summary>
/// <param name="Path">Full path of the GGUF file.</param>
/// <param name="FileBytes">Size of the file.</param>
/// <param name="ParameterCount">Elements of all tensors.</param>
/// <param name="Options">The options the model was made with.</param>
public sealed record SynthesizedMoeModel(string Path, long FileBytes, long ParameterCount, MoeSynthesisOptions Options);

/// <summary>
/// Writes tiny Mixture-of-Experts GGUFs with seeded random weights in the tensor layout llama.cpp
/// expects for each architecture, with no tokenizer (<c>tokenizer.ggml.model = "no_vocab"</c>: token
/// ids are fed directly). The output head scores each token's successor in a random cycle highest,
/// so greedy decoding has wide margins, while attention and experts still steer it; the router
/// weights are large so that gate probabilities are far from ties.
/// </summary>
public static class MoeSynthesizer
{
    /// <summary>Writes a model to <paramref name="path"/> and returns its description.</summary>
    public static SynthesizedMoeModel Write(string path, MoeSynthesisOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid MoE model options: {string.Join("; ", problems)}.", nameof(options));
        }

        var o = options;
        var h = o.Hidden;
        var writer = new GgufWriter();
        WriteMetadata(writer, o);

        var tensors = new TensorSink(writer, o.WeightType, o.Seed);
        var embeddings = Embeddings(o.VocabularySize, h, o.Seed);
        tensors.Matrix("token_embd.weight", h, o.VocabularySize, (r, row) => embeddings.AsSpan(r * h, h).CopyTo(row));
        for (var l = 0; l < o.Layers; l++)
        {
            WriteLayer(tensors, o, l);
        }

        tensors.Norm("output_norm.weight", h);

        // Output row v is the embedding of v's predecessor in a random cycle: a hidden state near
        // token t's embedding scores t's successor highest by a margin of several standard deviations.
        var predecessor = Cycle(o.VocabularySize, o.Seed);
        var outputScale = 4f / MathF.Sqrt(h);
        tensors.Matrix("output.weight", h, o.VocabularySize, (r, row) =>
        {
            var source = embeddings.AsSpan(predecessor[r] * h, h);
            for (var i = 0; i < h; i++)
            {
                row[i] = source[i] * outputScale;
            }
        });

        writer.WriteTo(path);
        var full = System.IO.Path.GetFullPath(path);
        return new SynthesizedMoeModel(full, new FileInfo(full).Length, tensors.Parameters, o);
    }

    private static void WriteLayer(TensorSink tensors, MoeSynthesisOptions o, int l)
    {
        var arch = o.Architecture;
        var h = o.Hidden;
        var d = o.EffectiveHeadSize;
        var q = o.Heads * d;
        var kv = o.EffectiveKeyValueHeads * d;
        var f = o.ExpertFeedForward;
        var fs = o.EffectiveSharedFeedForward;
        var gain = 0.5f / MathF.Sqrt(o.Layers);
        var b = $"blk.{l}.";
        tensors.Norm(b + "attn_norm.weight", h);
        tensors.Random(b + "attn_q.weight", h, q, 1f);
        tensors.Random(b + "attn_k.weight", h, kv, 1f);
        tensors.Random(b + "attn_v.weight", h, kv, 1f);
        if (arch == "qwen2moe")
        {
            tensors.Bias(b + "attn_q.bias", q);
            tensors.Bias(b + "attn_k.bias", kv);
            tensors.Bias(b + "attn_v.bias", kv);
        }

        tensors.Random(b + "attn_output.weight", q, h, gain);
        if (arch == "qwen3moe")
        {
            tensors.Norm(b + "attn_q_norm.weight", d);
            tensors.Norm(b + "attn_k_norm.weight", d);
        }
        else if (arch == "olmoe")
        {
            // OLMoE normalises the whole query and key vectors, across heads.
            tensors.Norm(b + "attn_q_norm.weight", q);
            tensors.Norm(b + "attn_k_norm.weight", kv);
        }

        tensors.Norm(b + "ffn_norm.weight", h);
        tensors.Random(b + "ffn_gate_inp.weight", h, o.Experts, 4f, GgmlType.F32);
        tensors.Random(b + "ffn_gate_exps.weight", h, f * o.Experts, 1f, shape: [h, f, o.Experts]);
        tensors.Random(b + "ffn_down_exps.weight", f, h * o.Experts, gain, shape: [f, h, o.Experts]);
        tensors.Random(b + "ffn_up_exps.weight", h, f * o.Experts, 1f, shape: [h, f, o.Experts]);
        if (fs > 0)
        {
            tensors.Random(b + "ffn_gate_inp_shexp.weight", h, 1, 1f, GgmlType.F32, shape: [h]);
            tensors.Random(b + "ffn_gate_shexp.weight", h, fs, 1f);
            tensors.Random(b + "ffn_down_shexp.weight", fs, h, gain);
            tensors.Random(b + "ffn_up_shexp.weight", h, fs, 1f);
        }
    }

    private static void WriteMetadata(GgufWriter writer, MoeSynthesisOptions o)
    {
        var a = o.Architecture;
        writer.Set("general.architecture", a);
        writer.Set("general.name", o.Name);
        writer.Set("general.file_type", o.WeightType switch { GgmlType.F16 => 1u, GgmlType.Q8_0 => 7u, _ => 0u });
        writer.Set("moemesh.synthesis.seed", GgufValue.FromUInt64(o.Seed));
        writer.Set($"{a}.vocab_size", (uint)o.VocabularySize);
        writer.Set($"{a}.context_length", (uint)o.ContextLength);
        writer.Set($"{a}.embedding_length", (uint)o.Hidden);
        writer.Set($"{a}.block_count", (uint)o.Layers);
        writer.Set($"{a}.feed_forward_length", (uint)o.ExpertFeedForward);
        writer.Set($"{a}.attention.head_count", (uint)o.Heads);
        writer.Set($"{a}.attention.head_count_kv", (uint)o.EffectiveKeyValueHeads);
        writer.Set($"{a}.attention.layer_norm_rms_epsilon", o.RmsNormEpsilon);
        writer.Set($"{a}.rope.freq_base", o.RopeFrequencyBase);
        writer.Set($"{a}.rope.dimension_count", (uint)o.EffectiveHeadSize);
        writer.Set($"{a}.expert_count", (uint)o.Experts);
        writer.Set($"{a}.expert_used_count", (uint)o.TopK);
        if (a != "llama")
        {
            writer.Set($"{a}.expert_feed_forward_length", (uint)o.ExpertFeedForward);
        }

        if (a == "qwen2moe")
        {
            writer.Set($"{a}.expert_shared_feed_forward_length", (uint)o.EffectiveSharedFeedForward);
        }

        if (o.EffectiveHeadSize * o.Heads != o.Hidden)
        {
            writer.Set($"{a}.attention.key_length", (uint)o.EffectiveHeadSize);
            writer.Set($"{a}.attention.value_length", (uint)o.EffectiveHeadSize);
        }

        writer.Set("tokenizer.ggml.model", "no_vocab");
    }

    private static float[] Embeddings(int vocabulary, int h, ulong seed)
    {
        var embeddings = new float[(long)vocabulary * h];
        var random = new SynthesisRandom(seed ^ 0x5EED_0001UL);
        for (var i = 0; i < embeddings.Length; i++)
        {
            embeddings[i] = random.NextNormal();
        }

        return embeddings;
    }

    private static int[] Cycle(int vocabulary, ulong seed)
    {
        var random = new SynthesisRandom(seed ^ 0xC4A1_0002UL);
        var order = Enumerable.Range(0, vocabulary).ToArray();
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        var predecessor = new int[vocabulary];
        for (var i = 0; i < order.Length; i++)
        {
            predecessor[order[i]] = order[(i + order.Length - 1) % order.Length];
        }

        return predecessor;
    }

    /// <summary>Adds tensors to the writer, each drawn from its own seeded stream.</summary>
    private sealed class TensorSink(GgufWriter writer, GgmlType matrixType, ulong seed)
    {
        private int _index;

        public long Parameters { get; private set; }

        public void Norm(string name, int length) => Vector(name, length, 1f, 0.1f);

        public void Bias(string name, int length) => Vector(name, length, 0f, 0.1f);

        /// <summary>A [rows × columns] matrix (ggml {columns, rows}) of normal weights with standard deviation gain / sqrt(columns).</summary>
        public void Random(string name, int columns, int rows, float gain, GgmlType? type = null, long[]? shape = null)
        {
            var random = new SynthesisRandom(seed * 0x9E3779B97F4A7C15UL + (ulong)++_index);
            var scale = gain / MathF.Sqrt(columns);
            Matrix(name, columns, rows, (_, row) =>
            {
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = random.NextNormal() * scale;
                }
            }, type, shape);
        }

        public void Matrix(string name, int columns, int rows, Action<int, Span<float>> fill, GgmlType? type = null, long[]? shape = null)
        {
            var t = type ?? matrixType;
            Parameters += (long)columns * rows;
            writer.AddTensor(name, t, shape ?? [columns, rows], stream =>
            {
                var values = new float[columns];
                var bytes = new byte[GgmlQuantizer.ByteCount(t, columns)];
                for (var r = 0; r < rows; r++)
                {
                    fill(r, values);
                    GgmlQuantizer.Encode(t, values, bytes);
                    stream.Write(bytes);
                }
            });
        }

        private void Vector(string name, int length, float mean, float spread)
        {
            var random = new SynthesisRandom(seed * 0x9E3779B97F4A7C15UL + (ulong)++_index);
            var values = new float[length];
            for (var i = 0; i < length; i++)
            {
                values[i] = mean + spread * random.NextNormal();
            }

            Parameters += length;
            writer.AddTensor(name, GgmlType.F32, [length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        }
    }
}
