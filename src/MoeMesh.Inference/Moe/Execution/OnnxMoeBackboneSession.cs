using Microsoft.ML.OnnxRuntime;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// One sequence on an <see cref="OnnxMoeBackbone"/>: its KV cache (token-major per layer, so the
/// cached prefix is one contiguous tensor and new keys are written in place by the graph), the
/// residual stream of the step in flight, and the step protocol of <see cref="IMoeBackboneSession"/>.
/// </summary>
internal sealed class OnnxMoeBackboneSession : IMoeBackboneSession
{
    private readonly OnnxMoeBackbone _backbone;
    private readonly int _contextSize;
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly double[] _inverseFrequencies;
    private readonly int _rowSize;
    private float[] _x = [];
    private float[] _residual = [];
    private float[] _shared = [];
    private float[] _cos = [];
    private float[] _sin = [];
    private float[] _mask = [];
    private float[] _logits = [];
    private int _tokens;
    private int _layer = -1;

    public OnnxMoeBackboneSession(OnnxMoeBackbone backbone, int contextSize)
    {
        _backbone = backbone;
        _contextSize = contextSize;
        var s = backbone.Shape;
        _rowSize = s.KeyValueHeadCount * s.HeadSize;
        _keys = new float[s.LayerCount][];
        _values = new float[s.LayerCount][];
        for (var l = 0; l < s.LayerCount; l++)
        {
            _keys[l] = new float[(long)contextSize * _rowSize];
            _values[l] = new float[(long)contextSize * _rowSize];
        }

        _inverseFrequencies = new double[s.HeadSize / 2];
        for (var i = 0; i < _inverseFrequencies.Length; i++)
        {
            _inverseFrequencies[i] = Math.Pow(s.RopeFrequencyBase, -2.0 * i / s.HeadSize);
        }
    }

    public MoeModelShape Shape => _backbone.Shape;

    public int Position { get; private set; }

    public ReadOnlyMemory<float> Logits { get; private set; }

    public MoeLayerRouting Begin(ReadOnlySpan<int> tokenIds)
    {
        if (_layer >= 0)
        {
            throw new InvalidOperationException("A step is already in flight: Continue it until it returns null.");
        }

        if (tokenIds.IsEmpty || Position + tokenIds.Length > _contextSize)
        {
            throw new ArgumentException($"A step needs 1..{_contextSize - Position} tokens; {tokenIds.Length} were given.", nameof(tokenIds));
        }

        var s = Shape;
        _tokens = tokenIds.Length;
        Prepare();
        for (var t = 0; t < _tokens; t++)
        {
            if ((uint)tokenIds[t] >= (uint)s.VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokenIds), $"Token {tokenIds[t]} is outside the vocabulary of {s.VocabularySize}.");
            }

            _backbone.Embeddings.AsSpan(tokenIds[t] * s.HiddenSize, s.HiddenSize).CopyTo(_x.AsSpan(t * s.HiddenSize));
        }

        _layer = 0;
        return RunAttention();
    }

    public MoeLayerRouting? Continue(ReadOnlySpan<float> routedExpertOutput)
    {
        if (_layer < 0)
        {
            throw new InvalidOperationException("No step is in flight: call Begin first.");
        }

        var n = _tokens * Shape.HiddenSize;
        if (routedExpertOutput.Length != n)
        {
            throw new ArgumentException($"The routed output must hold {n} values (tokens × hidden size); it holds {routedExpertOutput.Length}.", nameof(routedExpertOutput));
        }

        var withShared = Shape.SharedExpertFeedForwardSize > 0;
        for (var i = 0; i < n; i++)
        {
            _x[i] = _residual[i] + routedExpertOutput[i] + (withShared ? _shared[i] : 0f);
        }

        if (++_layer < Shape.LayerCount)
        {
            return RunAttention();
        }

        RunHead();
        Position += _tokens;
        _layer = -1;
        return null;
    }

    public void Truncate(int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, Position);
        Position = position;
        _layer = -1;
    }

    public void Dispose()
    {
    }

    private void Prepare()
    {
        var s = Shape;
        var half = s.HeadSize / 2;
        var group = s.HeadCount / s.KeyValueHeadCount;
        var total = Position + _tokens;
        Grow(ref _x, _tokens * s.HiddenSize);
        Grow(ref _residual, _tokens * s.HiddenSize);
        Grow(ref _shared, _tokens * s.HiddenSize);
        Grow(ref _cos, _tokens * half);
        Grow(ref _sin, _tokens * half);
        Grow(ref _mask, group * _tokens * total);
        for (var t = 0; t < _tokens; t++)
        {
            for (var i = 0; i < half; i++)
            {
                var angle = (Position + t) * _inverseFrequencies[i];
                _cos[t * half + i] = (float)Math.Cos(angle);
                _sin[t * half + i] = (float)Math.Sin(angle);
            }
        }

        // Rows are (query head within the group, token): token t sees positions up to Position + t.
        for (var row = 0; row < group * _tokens; row++)
        {
            var visible = Position + row % _tokens;
            var span = _mask.AsSpan(row * total, total);
            span[..(visible + 1)].Clear();
            span[(visible + 1)..].Fill(float.NegativeInfinity);
        }
    }

    private MoeLayerRouting RunAttention()
    {
        var s = Shape;
        long t = _tokens, h = s.HiddenSize, kv = s.KeyValueHeadCount, d = s.HeadSize, half = d / 2;
        var group = s.HeadCount / s.KeyValueHeadCount;
        var ffnIn = new float[t * h];
        var router = new float[t * s.ExpertCount];
        var past = Position * _rowSize;
        var fresh = _tokens * _rowSize;
        using var input = OrtTensors.Over(_x.AsMemory(0, (int)(t * h)), t, h);
        using var cosValue = OrtTensors.Over(_cos.AsMemory(0, (int)(t * half)), t, half);
        using var sinValue = OrtTensors.Over(_sin.AsMemory(0, (int)(t * half)), t, half);
        using var pastKey = OrtTensors.Over(_keys[_layer].AsMemory(0, past), Position, kv, d);
        using var pastValue = OrtTensors.Over(_values[_layer].AsMemory(0, past), Position, kv, d);
        using var maskValue = OrtTensors.Over(_mask.AsMemory(0, group * _tokens * (Position + _tokens)), group * t, Position + t);
        using var residualValue = OrtTensors.Over(_residual.AsMemory(0, (int)(t * h)), t, h);
        using var ffnValue = OrtTensors.Over(ffnIn, t, h);
        using var routerValue = OrtTensors.Over(router, t, s.ExpertCount);
        using var newKey = OrtTensors.Over(_keys[_layer].AsMemory(past, fresh), t, kv, d);
        using var newValue = OrtTensors.Over(_values[_layer].AsMemory(past, fresh), t, kv, d);
        using var sharedValue = s.SharedExpertFeedForwardSize > 0 ? OrtTensors.Over(_shared.AsMemory(0, (int)(t * h)), t, h) : null;
        OrtValue[] outputs = sharedValue is null
            ? [residualValue, ffnValue, routerValue, newKey, newValue]
            : [residualValue, ffnValue, routerValue, newKey, newValue, sharedValue];
        _backbone.Attention(_layer).Run([input, cosValue, sinValue, pastKey, pastValue, maskValue], outputs);

        var k = s.ExpertsPerToken;
        var ids = new int[_tokens * k];
        var weights = new float[_tokens * k];
        MoeGate.Route(router, _tokens, s.ExpertCount, k, s.Gating, ids, weights);
        return new MoeLayerRouting
        {
            Layer = _layer,
            TokenCount = _tokens,
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
        var size = _tokens * s.VocabularySize;
        Grow(ref _logits, size);
        using var input = OrtTensors.Over(_x.AsMemory(0, _tokens * s.HiddenSize), _tokens, s.HiddenSize);
        using var output = OrtTensors.Over(_logits.AsMemory(0, size), _tokens, s.VocabularySize);
        _backbone.Head.Run([input], [output]);
        Logits = _logits.AsMemory(0, size);
    }

    private static void Grow(ref float[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new float[size];
        }
    }
}
