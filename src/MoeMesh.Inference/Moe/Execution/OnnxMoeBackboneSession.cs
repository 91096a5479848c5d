using Microsoft.ML.OnnxRuntime;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// One sequence on an <see cref="OnnxMoeBackbone"/>: its KV cache (token-major per layer, so the
/// cached prefix is one contiguous tensor and new keys are written in place by the graph), the
/// residual stream of the step in flight, and the step protocol of <see cref="IMoeBackboneSession"/>.
/// </summary>
internal sealed class OnnxMoeBackboneSession : IMoeBackboneSession
{
    private readonly OnnxMoeBackbone backbone;
    private readonly int contextSize;
    private readonly float[][] keys;
    private readonly float[][] values;
    private readonly double[] inverseFrequencies;
    private readonly int rowSize;
    private float[] x = [];
    private float[] residual = [];
    private float[] shared = [];
    private float[] cos = [];
    private float[] sin = [];
    private float[] mask = [];
    private float[] logits = [];
    private int tokens;
    private int layer = -1;

    public OnnxMoeBackboneSession(OnnxMoeBackbone backbone, int contextSize)
    {
        this.backbone = backbone;
        this.contextSize = contextSize;
        var s = backbone.Shape;
        rowSize = s.KeyValueHeadCount * s.HeadSize;
        keys = new float[s.LayerCount][];
        values = new float[s.LayerCount][];
        for (var l = 0; l < s.LayerCount; l++)
        {
            keys[l] = new float[(long)contextSize * rowSize];
            values[l] = new float[(long)contextSize * rowSize];
        }

        inverseFrequencies = new double[s.HeadSize / 2];
        for (var i = 0; i < inverseFrequencies.Length; i++)
        {
            inverseFrequencies[i] = Math.Pow(s.RopeFrequencyBase, -2.0 * i / s.HeadSize);
        }
    }

    public MoeModelShape Shape => backbone.Shape;

    public int Position { get; private set; }

    public ReadOnlyMemory<float> Logits { get; private set; }

    public MoeLayerRouting Begin(ReadOnlySpan<int> tokenIds)
    {
        if (layer >= 0)
        {
            throw new InvalidOperationException("A step is already in flight: Continue it until it returns null.");
        }

        if (tokenIds.IsEmpty || Position + tokenIds.Length > contextSize)
        {
            throw new ArgumentException($"A step needs 1..{contextSize - Position} tokens; {tokenIds.Length} were given.", nameof(tokenIds));
        }

        var s = Shape;
        tokens = tokenIds.Length;
        Prepare();
        for (var t = 0; t < tokens; t++)
        {
            if ((uint)tokenIds[t] >= (uint)s.VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokenIds), $"Token {tokenIds[t]} is outside the vocabulary of {s.VocabularySize}.");
            }

            backbone.Embeddings.AsSpan(tokenIds[t] * s.HiddenSize, s.HiddenSize).CopyTo(x.AsSpan(t * s.HiddenSize));
        }

        layer = 0;
        return RunAttention();
    }

    public MoeLayerRouting? Continue(ReadOnlySpan<float> routedExpertOutput)
    {
        if (layer < 0)
        {
            throw new InvalidOperationException("No step is in flight: call Begin first.");
        }

        var n = tokens * Shape.HiddenSize;
        if (routedExpertOutput.Length != n)
        {
            throw new ArgumentException($"The routed output must hold {n} values (tokens × hidden size); it holds {routedExpertOutput.Length}.", nameof(routedExpertOutput));
        }

        var withShared = Shape.SharedExpertFeedForwardSize > 0;
        for (var i = 0; i < n; i++)
        {
            x[i] = residual[i] + routedExpertOutput[i] + (withShared ? shared[i] : 0f);
        }

        if (++layer < Shape.LayerCount)
        {
            return RunAttention();
        }

        RunHead();
        Position += tokens;
        layer = -1;
        return null;
    }

    public void Truncate(int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, Position);
        Position = position;
        layer = -1;
    }

    public void Dispose()
    {
    }

    private void Prepare()
    {
        var s = Shape;
        var half = s.HeadSize / 2;
        var group = s.HeadCount / s.KeyValueHeadCount;
        var total = Position + tokens;
        Grow(ref x, tokens * s.HiddenSize);
        Grow(ref residual, tokens * s.HiddenSize);
        Grow(ref shared, tokens * s.HiddenSize);
        Grow(ref cos, tokens * half);
        Grow(ref sin, tokens * half);
        Grow(ref mask, group * tokens * total);
        for (var t = 0; t < tokens; t++)
        {
            for (var i = 0; i < half; i++)
            {
                var angle = (Position + t) * inverseFrequencies[i];
                cos[t * half + i] = (float)Math.Cos(angle);
                sin[t * half + i] = (float)Math.Sin(angle);
            }
        }

        // Rows are (query head within the group, token): token t sees positions up to Position + t.
        for (var row = 0; row < group * tokens; row++)
        {
            var visible = Position + row % tokens;
            var span = mask.AsSpan(row * total, total);
            span[..(visible + 1)].Clear();
            span[(visible + 1)..].Fill(float.NegativeInfinity);
        }
    }

    private MoeLayerRouting RunAttention()
    {
        var s = Shape;
        long t = tokens, h = s.HiddenSize, kv = s.KeyValueHeadCount, d = s.HeadSize, half = d / 2;
        var group = s.HeadCount / s.KeyValueHeadCount;
        var ffnIn = new float[t * h];
        var router = new float[t * s.ExpertCount];
        var past = Position * rowSize;
        var fresh = tokens * rowSize;
        using var input = OrtTensors.Over(x.AsMemory(0, (int)(t * h)), t, h);
        using var cosValue = OrtTensors.Over(cos.AsMemory(0, (int)(t * half)), t, half);
        using var sinValue = OrtTensors.Over(sin.AsMemory(0, (int)(t * half)), t, half);
        using var pastKey = OrtTensors.Over(keys[layer].AsMemory(0, past), Position, kv, d);
        using var pastValue = OrtTensors.Over(values[layer].AsMemory(0, past), Position, kv, d);
        using var maskValue = OrtTensors.Over(mask.AsMemory(0, group * tokens * (Position + tokens)), group * t, Position + t);
        using var residualValue = OrtTensors.Over(residual.AsMemory(0, (int)(t * h)), t, h);
        using var ffnValue = OrtTensors.Over(ffnIn, t, h);
        using var routerValue = OrtTensors.Over(router, t, s.ExpertCount);
        using var newKey = OrtTensors.Over(keys[layer].AsMemory(past, fresh), t, kv, d);
        using var newValue = OrtTensors.Over(values[layer].AsMemory(past, fresh), t, kv, d);
        using var sharedValue = s.SharedExpertFeedForwardSize > 0 ? OrtTensors.Over(shared.AsMemory(0, (int)(t * h)), t, h) : null;
        OrtValue[] outputs = sharedValue is null
            ? [residualValue, ffnValue, routerValue, newKey, newValue]
            : [residualValue, ffnValue, routerValue, newKey, newValue, sharedValue];
        backbone.Attention(layer).Run([input, cosValue, sinValue, pastKey, pastValue, maskValue], outputs);

        var k = s.ExpertsPerToken;
        var ids = new int[tokens * k];
        var weights = new float[tokens * k];
        MoeGate.Route(router, tokens, s.ExpertCount, k, s.Gating, ids, weights);
        return new MoeLayerRouting
        {
            Layer = layer,
            TokenCount = tokens,
            HiddenSize = s.HiddenSize,
            ExpertsPerToken = k,
            FirstPosition = Position,
            Hidden = ffnIn,
            ExpertIds = ids,
            Weights = weights,
        };
    }

    private void RunHead()
    {
        var s = Shape;
        // The logits buffer is reused from step to step: Logits is valid until the next step.
        var size = tokens * s.VocabularySize;
        Grow(ref logits, size);
        using var input = OrtTensors.Over(x.AsMemory(0, tokens * s.HiddenSize), tokens, s.HiddenSize);
        using var output = OrtTensors.Over(logits.AsMemory(0, size), tokens, s.VocabularySize);
        backbone.Head.Run([input], [output]);
        Logits = logits.AsMemory(0, size);
    }

    private static void Grow(ref float[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new float[size];
        }
    }
}
