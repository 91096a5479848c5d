using MoeMesh.Inference.Moe.Execution;

namespace MoeMesh.Inference.Moe.Onnx;

/// <summary>
/// The ONNX graphs of an MoE model, built from its weights: per block the attention half (norm,
/// q/k/v, rotary embedding, grouped-query attention over the KV cache, output projection, residual,
/// feed-forward norm, router logits, shared expert), per routed expert its SwiGLU network, and the
/// head (output norm and vocabulary projection). Matrices become MatMul weights of shape [in, out].
/// </summary>
public static class MoeGraphs
{
    /// <summary>Names of the attention graph's inputs and outputs.</summary>
    public static class Attention
    {
        public const string X = "x", Cos = "cos", Sin = "sin", PastKey = "past_k", PastValue = "past_v", Mask = "mask";
        public const string Residual = "h", FeedForwardInput = "ffn_in", RouterLogits = "router", Shared = "shared", NewKey = "k_new", NewValue = "v_new";
    }

    /// <summary>The attention half of a block (up to and including the router and the shared expert).</summary>
    public static byte[] AttentionBlock(MoeLayerWeights w, MoeModelShape s)
    {
        var g = new OnnxGraphBuilder();
        long h = s.HiddenSize, d = s.HeadSize, heads = s.HeadCount, kvHeads = s.KeyValueHeadCount, half = d / 2;
        var x = g.Input(Attention.X, OnnxElementType.Float, null, h);
        var cos = g.Input(Attention.Cos, OnnxElementType.Float, null, half);
        var sin = g.Input(Attention.Sin, OnnxElementType.Float, null, half);
        var pastK = g.Input(Attention.PastKey, OnnxElementType.Float, null, kvHeads, d);
        var pastV = g.Input(Attention.PastValue, OnnxElementType.Float, null, kvHeads, d);
        var mask = g.Input(Attention.Mask, OnnxElementType.Float, null, null);

        var normed = RmsNorm(g, x, w.AttentionNorm, s.RmsNormEpsilon);
        var q = Linear(g, normed, w.Query, heads * d, h, w.QueryBias);
        var k = Linear(g, normed, w.Key, kvHeads * d, h, w.KeyBias);
        var v = Linear(g, normed, w.Value, kvHeads * d, h, w.ValueBias);
        var normAcrossHeads = w.QueryNorm is not null && w.QueryNorm.Length != d;
        if (normAcrossHeads)
        {
            // olmoe: one RMSNorm over the whole query (and key) vector, before splitting heads.
            q = RmsNorm(g, q, w.QueryNorm!, s.RmsNormEpsilon);
            k = RmsNorm(g, k, w.KeyNorm!, s.RmsNormEpsilon);
        }

        q = g.Op("Reshape", q, g.Int64s(-1, heads, d));
        k = g.Op("Reshape", k, g.Int64s(-1, kvHeads, d));
        v = g.Op("Reshape", v, g.Int64s(-1, kvHeads, d));
        if (!normAcrossHeads && w.QueryNorm is not null && w.KeyNorm is not null)
        {
            q = RmsNorm(g, q, w.QueryNorm, s.RmsNormEpsilon);
            k = RmsNorm(g, k, w.KeyNorm, s.RmsNormEpsilon);
        }

        var cosB = g.Op("Unsqueeze", cos, g.Int64s(1));
        var sinB = g.Op("Unsqueeze", sin, g.Int64s(1));
        q = Rotate(g, q, cosB, sinB, half);
        k = Rotate(g, k, cosB, sinB, half);
        g.Output(Attention.NewKey, k, OnnxElementType.Float, null, kvHeads, d);
        g.Output(Attention.NewValue, v, OnnxElementType.Float, null, kvHeads, d);

        // Scores per KV head: the group's query heads stacked as [kvH, group·T, D] against K [kvH, D, S].
        var keys = g.Op("Concat", [pastK, k], OnnxGraphBuilder.Attribute.Int("axis", 0));
        var values = g.Op("Concat", [pastV, v], OnnxGraphBuilder.Attribute.Int("axis", 0));
        var queries = g.Op("Transpose", [q], OnnxGraphBuilder.Attribute.Ints("perm", 1, 0, 2));
        queries = g.Op("Reshape", queries, g.Int64s(kvHeads, -1, d));
        var keysT = g.Op("Transpose", [keys], OnnxGraphBuilder.Attribute.Ints("perm", 1, 2, 0));
        var scores = g.Op("Mul", g.Op("MatMul", queries, keysT), g.Scalar(1f / MathF.Sqrt(d)));
        var probabilities = g.Op("Softmax", [g.Op("Add", scores, mask)], OnnxGraphBuilder.Attribute.Int("axis", -1));
        var valuesT = g.Op("Transpose", [values], OnnxGraphBuilder.Attribute.Ints("perm", 1, 0, 2));
        var context = g.Op("Reshape", g.Op("MatMul", probabilities, valuesT), g.Int64s(heads, -1, d));
        context = g.Op("Transpose", [context], OnnxGraphBuilder.Attribute.Ints("perm", 1, 0, 2));
        context = g.Op("Reshape", context, g.Int64s(-1, heads * d));
        var residual = g.Op("Add", x, Linear(g, context, w.AttentionOutput, h, heads * d, null));
        g.Output(Attention.Residual, residual, OnnxElementType.Float, null, h);

        var ffnIn = RmsNorm(g, residual, w.FeedForwardNorm, s.RmsNormEpsilon);
        g.Output(Attention.FeedForwardInput, ffnIn, OnnxElementType.Float, null, h);
        g.Output(Attention.RouterLogits, Linear(g, ffnIn, w.Router, s.ExpertCount, h, null), OnnxElementType.Float, null, s.ExpertCount);
        if (w.SharedGate is not null && w.SharedUp is not null && w.SharedDown is not null && w.SharedGateInput is not null)
        {
            var fs = s.SharedExpertFeedForwardSize;
            var shared = SwiGlu(g, ffnIn, w.SharedGate, w.SharedUp, w.SharedDown, h, fs, MoeWeightPrecision.Float32);
            var gate = g.Op("Sigmoid", Linear(g, ffnIn, w.SharedGateInput, 1, h, null));
            g.Output(Attention.Shared, g.Op("Mul", shared, gate), OnnxElementType.Float, null, h);
        }

        return g.ToBytes("attention");
    }

    /// <summary>One routed expert: <c>down(silu(gate·x) ⊙ up·x)</c> on x [T, H].</summary>
    public static byte[] Expert(ExpertWeights e, int hidden, MoeWeightPrecision precision)
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxElementType.Float, null, hidden);
        var y = SwiGlu(g, x, e.Gate, e.Up, e.Down, hidden, e.FeedForward, precision);
        g.Output("y", y, OnnxElementType.Float, null, hidden);
        return g.ToBytes("expert");
    }

    /// <summary>The head: output norm and vocabulary projection of x [T, H] to logits [T, V].</summary>
    public static byte[] Head(float[] norm, float[] output, MoeModelShape s)
    {
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", OnnxElementType.Float, null, s.HiddenSize);
        var normed = RmsNorm(g, x, norm, s.RmsNormEpsilon);
        g.Output("logits", Linear(g, normed, output, s.VocabularySize, s.HiddenSize, null), OnnxElementType.Float, null, s.VocabularySize);
        return g.ToBytes("head");
    }

    /// <summary>x / sqrt(mean(x²) + ε) · weight over the last axis.</summary>
    private static string RmsNorm(OnnxGraphBuilder g, string x, float[] weight, float epsilon)
    {
        var meanSquare = g.Op("ReduceMean", [g.Op("Mul", x, x)], OnnxGraphBuilder.Attribute.Ints("axes", -1), OnnxGraphBuilder.Attribute.Int("keepdims", 1));
        var scale = g.Op("Sqrt", g.Op("Add", meanSquare, g.Scalar(epsilon)));
        return g.Op("Mul", g.Op("Div", x, scale), g.Weight(weight, weight.Length));
    }

    /// <summary>x [.., in] · Wᵀ (+ b) for a row-major W [out, in].</summary>
    private static string Linear(OnnxGraphBuilder g, string x, float[] weight, long outputs, long inputs, float[]? bias, MoeWeightPrecision precision = MoeWeightPrecision.Float32)
    {
        var transposed = Transpose(weight, (int)outputs, (int)inputs);
        var w = precision switch
        {
            MoeWeightPrecision.Float16 => g.Op("Cast", [g.WeightHalf(transposed, inputs, outputs)], OnnxGraphBuilder.Attribute.Int("to", (long)OnnxElementType.Float)),
            MoeWeightPrecision.Q8 => Q8Weight(g, transposed, inputs, outputs),
            _ => g.Weight(transposed, inputs, outputs),
        };
        var y = g.Op("MatMul", x, w);
        return bias is null ? y : g.Op("Add", y, g.Weight(bias, bias.Length));
    }

    /// <summary>
    /// A [in, out] weight held as Q8_0-style blocks: 32 consecutive inputs of one output share a
    /// float scale (max |w| / 127) and are int8; the graph multiplies them back out on each run.
    /// </summary>
    private static string Q8Weight(OnnxGraphBuilder g, float[] transposed, long inputs, long outputs)
    {
        if (inputs % 32 != 0)
        {
            throw new ArgumentException($"Q8 weights need input sizes that are multiples of 32; {inputs} is not.");
        }

        var blocks = inputs / 32;
        var quants = new sbyte[transposed.Length];
        var scales = new float[blocks * outputs];
        for (long b = 0; b < blocks; b++)
        {
            for (long o = 0; o < outputs; o++)
            {
                var max = 0f;
                for (var i = 0; i < 32; i++)
                {
                    max = MathF.Max(max, MathF.Abs(transposed[(b * 32 + i) * outputs + o]));
                }

                var scale = max / 127f;
                scales[b * outputs + o] = scale;
                var inverse = scale > 0 ? 1f / scale : 0f;
                for (var i = 0; i < 32; i++)
                {
                    var index = (b * 32 + i) * outputs + o;
                    quants[index] = (sbyte)MathF.Round(transposed[index] * inverse);
                }
            }
        }

        var q = g.Op("Cast", [g.WeightInt8(quants, blocks, 32, outputs)], OnnxGraphBuilder.Attribute.Int("to", (long)OnnxElementType.Float));
        var values = g.Op("Mul", q, g.Weight(scales, blocks, 1, outputs));
        return g.Op("Reshape", values, g.Int64s(inputs, outputs));
    }

    private static string SwiGlu(OnnxGraphBuilder g, string x, float[] gate, float[] up, float[] down, long hidden, long inner, MoeWeightPrecision precision)
    {
        var a = Linear(g, x, gate, inner, hidden, null, precision);
        var b = Linear(g, x, up, inner, hidden, null, precision);
        var silu = g.Op("Mul", a, g.Op("Sigmoid", a));
        return Linear(g, g.Op("Mul", silu, b), down, hidden, inner, null, precision);
    }

    /// <summary>Rotary embedding on [T, heads, D] rotating the pairs (i, i + D/2) by angle pos·θᵢ.</summary>
    private static string Rotate(OnnxGraphBuilder g, string x, string cos, string sin, long half)
    {
        var first = g.Op("Slice", x, g.Int64s(0), g.Int64s(half), g.Int64s(2));
        var second = g.Op("Slice", x, g.Int64s(half), g.Int64s(2 * half), g.Int64s(2));
        var a = g.Op("Sub", g.Op("Mul", first, cos), g.Op("Mul", second, sin));
        var b = g.Op("Add", g.Op("Mul", second, cos), g.Op("Mul", first, sin));
        return g.Op("Concat", [a, b], OnnxGraphBuilder.Attribute.Int("axis", 2));
    }

    internal static float[] Transpose(float[] matrix, int rows, int columns)
    {
        var result = new float[matrix.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                result[(long)c * rows + r] = matrix[(long)r * columns + c];
            }
        }

        return result;
    }
}
