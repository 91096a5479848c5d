using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Moe.Loading;

/// <summary>The tensors (names and ggml shapes) llama.cpp wants for each MoE architecture.</summary>
public static class MoeTensorLayout
{
    /// <summary>One expected tensor.</summary>
    /// <param name="Name">GGUF tensor name.</param>
    /// <param name="Shape">ggml shape (fastest-varying first).</param>
    /// <param name="Required">False for tensors the architecture may leave out.</param>
    public sealed record Expected(string Name, long[] Shape, bool Required);

    /// <summary>Every tensor a model of <paramref name="shape"/> may hold.</summary>
    public static IReadOnlyList<Expected> For(MoeModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var s = shape;
        long h = s.HiddenSize, v = s.VocabularySize, d = s.HeadSize, q = s.HeadCount * d, kv = s.KeyValueHeadCount * d;
        long f = s.ExpertFeedForwardSize, e = s.ExpertCount, fs = s.SharedExpertFeedForwardSize;
        var qwen2 = s.Architecture == "qwen2moe";
        var qwen3 = s.Architecture == "qwen3moe";
        var list = new List<Expected>
        {
            new("token_embd.weight", [h, v], true),
            new("output_norm.weight", [h], true),
            new("output.weight", [h, v], qwen2),
        };
        for (var l = 0; l < s.LayerCount; l++)
        {
            var b = $"blk.{l}.";
            list.Add(new(b + "attn_norm.weight", [h], true));
            list.Add(new(b + "attn_q.weight", [h, q], true));
            list.Add(new(b + "attn_k.weight", [h, kv], true));
            list.Add(new(b + "attn_v.weight", [h, kv], true));
            list.Add(new(b + "attn_output.weight", [q, h], true));
            if (qwen2)
            {
                list.Add(new(b + "attn_q.bias", [q], false));
                list.Add(new(b + "attn_k.bias", [kv], false));
                list.Add(new(b + "attn_v.bias", [kv], false));
            }

            if (qwen3)
            {
                list.Add(new(b + "attn_q_norm.weight", [d], true));
                list.Add(new(b + "attn_k_norm.weight", [d], true));
            }
            else if (s.Architecture == "olmoe")
            {
                list.Add(new(b + "attn_q_norm.weight", [q], true));
                list.Add(new(b + "attn_k_norm.weight", [kv], true));
            }

            list.Add(new(b + "ffn_norm.weight", [h], true));
            list.Add(new(b + "ffn_gate_inp.weight", [h, e], true));
            list.Add(new(b + "ffn_gate_exps.weight", [h, f, e], true));
            list.Add(new(b + "ffn_up_exps.weight", [h, f, e], true));
            list.Add(new(b + "ffn_down_exps.weight", [f, h, e], true));
            if (fs > 0)
            {
                list.Add(new(b + "ffn_gate_inp_shexp.weight", [h], true));
                list.Add(new(b + "ffn_gate_shexp.weight", [h, fs], true));
                list.Add(new(b + "ffn_up_shexp.weight", [h, fs], true));
                list.Add(new(b + "ffn_down_shexp.weight", [fs, h], true));
            }
        }

        return list;
    }

    /// <summary>Checks that <paramref name="file"/> holds exactly the tensors of <paramref name="shape"/>, in types MoeMesh reads.</summary>
    public static void Validate(GgufFile file, MoeModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(file);
        var expected = For(shape).ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var tensor in file.Tensors)
        {
            if (!expected.TryGetValue(tensor.Name, out var want))
            {
                throw new MoeModelFormatException($"Tensor '{tensor.Name}' does not belong to a {shape.Architecture} model of {shape.LayerCount} layers.");
            }

            if (!tensor.Shape.SequenceEqual(want.Shape))
            {
                throw new MoeModelFormatException(
                    $"Tensor '{tensor.Name}' has shape {{{string.Join(", ", tensor.Shape)}}}; the metadata asks for {{{string.Join(", ", want.Shape)}}}.");
            }

            if (!Weights.GgmlDequantizer.IsSupported(tensor.Type))
            {
                throw new MoeModelFormatException($"Tensor '{tensor.Name}' is {tensor.Type}; supported types are F32, F16, BF16, Q8_0, Q4_K and Q6_K.");
            }

            if (GgmlTypeTraits.ByteSize(tensor.Type, tensor.Shape[0]) is null)
            {
                throw new MoeModelFormatException($"Tensor '{tensor.Name}' rows of {tensor.Shape[0]} are not whole {tensor.Type} blocks.");
            }
        }

        var missing = expected.Values.FirstOrDefault(t => t.Required && file.FindTensor(t.Name) is null);
        if (missing is not null)
        {
            throw new MoeModelFormatException($"Tensor '{missing.Name}' is missing.");
        }
    }
}
