using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Onnx;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// A loaded MoE backbone on ONNX Runtime: one attention graph per block, the head graph, and the
/// embedding table, all dequantised to F32 at load. Sessions share them; each has its own KV cache.
/// </summary>
public sealed class OnnxMoeBackbone : IMoeBackbone
{
    private readonly OnnxGraphSession[] _attention;
    private readonly OnnxGraphSession _head;

    private OnnxMoeBackbone(MoeModelShape shape, float[] embeddings, OnnxGraphSession[] attention, OnnxGraphSession head, long residentBytes)
    {
        Shape = shape;
        Embeddings = embeddings;
        _attention = attention;
        _head = head;
        ResidentBytes = residentBytes;
    }

    public MoeModelShape Shape { get; }

    public long ResidentBytes { get; }

    internal float[] Embeddings { get; }

    internal OnnxGraphSession Attention(int layer) => _attention[layer];

    internal OnnxGraphSession Head => _head;

    /// <summary>Loads the backbone of <paramref name="model"/>: embeddings, every block's attention half, the head.</summary>
    public static OnnxMoeBackbone Load(MoeGgufModel model, MoeExecutionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= MoeExecutionOptions.Default;
        var shape = model.Shape;
        var sessions = new List<OnnxGraphSession>();
        try
        {
            long bytes = 0;
            var embeddings = model.ReadTensor("token_embd.weight");
            bytes += 4L * embeddings.Length;
            var hasShared = shape.SharedExpertFeedForwardSize > 0;
            string[] outputs = hasShared
                ? [MoeGraphs.Attention.Residual, MoeGraphs.Attention.FeedForwardInput, MoeGraphs.Attention.RouterLogits, MoeGraphs.Attention.NewKey, MoeGraphs.Attention.NewValue, MoeGraphs.Attention.Shared]
                : [MoeGraphs.Attention.Residual, MoeGraphs.Attention.FeedForwardInput, MoeGraphs.Attention.RouterLogits, MoeGraphs.Attention.NewKey, MoeGraphs.Attention.NewValue];
            string[] inputs = [MoeGraphs.Attention.X, MoeGraphs.Attention.Cos, MoeGraphs.Attention.Sin, MoeGraphs.Attention.PastKey, MoeGraphs.Attention.PastValue, MoeGraphs.Attention.Mask];
            for (var layer = 0; layer < shape.LayerCount; layer++)
            {
                var weights = LayerWeights(model, layer);
                bytes += weights.Bytes;
                sessions.Add(new OnnxGraphSession(MoeGraphs.AttentionBlock(weights, shape), options, inputs, outputs));
            }

            var norm = model.ReadTensor("output_norm.weight");
            var output = model.HasTensor("output.weight") ? model.ReadTensor("output.weight") : embeddings;
            bytes += 4L * (norm.Length + (ReferenceEquals(output, embeddings) ? 0 : output.Length));
            var head = new OnnxGraphSession(MoeGraphs.Head(norm, output, shape), options, ["x"], ["logits"]);
            return new OnnxMoeBackbone(shape, embeddings, [.. sessions], head, bytes);
        }
        catch
        {
            sessions.ForEach(s => s.Dispose());
            throw;
        }
    }

    public IMoeBackboneSession CreateSession(int contextSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextSize, 1);
        return new OnnxMoeBackboneSession(this, contextSize);
    }

    public void Dispose()
    {
        foreach (var session in _attention)
        {
            session.Dispose();
        }

        _head.Dispose();
    }

    private static MoeLayerWeights LayerWeights(MoeGgufModel model, int layer)
    {
        var shape = model.Shape;
        var b = $"blk.{layer}.";
        float[]? Optional(string name) => model.HasTensor(b + name) ? model.ReadTensor(b + name) : null;
        var query = model.ReadTensor(b + "attn_q.weight");
        var key = model.ReadTensor(b + "attn_k.weight");
        if (shape.Architecture == "llama")
        {
            // llama rotates adjacent pairs; reordering each head's q/k rows (evens, then odds) makes it
            // the (i, i + D/2) rotation the graph applies, and leaves every q·k product unchanged.
            query = InterleavedToHalves(query, shape.HeadCount, shape.HeadSize, shape.HiddenSize);
            key = InterleavedToHalves(key, shape.KeyValueHeadCount, shape.HeadSize, shape.HiddenSize);
        }

        return new MoeLayerWeights
        {
            AttentionNorm = model.ReadTensor(b + "attn_norm.weight"),
            Query = query,
            Key = key,
            Value = model.ReadTensor(b + "attn_v.weight"),
            QueryBias = Optional("attn_q.bias"),
            KeyBias = Optional("attn_k.bias"),
            ValueBias = Optional("attn_v.bias"),
            QueryNorm = Optional("attn_q_norm.weight"),
            KeyNorm = Optional("attn_k_norm.weight"),
            AttentionOutput = model.ReadTensor(b + "attn_output.weight"),
            FeedForwardNorm = model.ReadTensor(b + "ffn_norm.weight"),
            Router = model.ReadTensor(b + "ffn_gate_inp.weight"),
            SharedGate = Optional("ffn_gate_shexp.weight"),
            SharedUp = Optional("ffn_up_shexp.weight"),
            SharedDown = Optional("ffn_down_shexp.weight"),
            SharedGateInput = Optional("ffn_gate_inp_shexp.weight"),
        };
    }

    private static float[] InterleavedToHalves(float[] matrix, int heads, int headSize, int columns)
    {
        var result = new float[matrix.Length];
        var half = headSize / 2;
        for (var head = 0; head < heads; head++)
        {
            for (var j = 0; j < headSize; j++)
            {
                var source = j < half ? 2 * j : 2 * (j - half) + 1;
                matrix.AsSpan((head * headSize + source) * columns, columns).CopyTo(result.AsSpan((head * headSize + j) * columns, columns));
            }
        }

        return result;
    }
}
