using System.Runtime.CompilerServices;

namespace MoeMesh.Activations;

/// <summary>The consistency rules every frame obeys, checked on both encode and decode.</summary>
internal static class ActivationFrameValidator
{
    public static void Validate(ActivationFrame frame, ActivationFrameLimits limits) => Validate(frame, limits, frame.Payload.Length);

    /// <summary>Validates a frame whose payload will be <paramref name="payloadLength"/> bytes (encoded in place, not held yet).</summary>
    public static void Validate(ActivationFrame frame, ActivationFrameLimits limits, long payloadLength)
    {
        Require(Enum.IsDefined(frame.Kind), $"frame kind {(int)frame.Kind} is unknown");
        Require(Enum.IsDefined(frame.DType), $"dtype {(int)frame.DType} is unknown");
        Require(!string.IsNullOrEmpty(frame.ModelId), "the model id is empty");
        Require(frame.SequenceId is not null, "the sequence id is missing");
        Require(frame.Layer is >= 0 and <= ushort.MaxValue, $"layer {frame.Layer} is out of range");
        Require(frame.Shape is { Length: 2 }, "the shape must be [tokens, hidden]");
        var tokens = frame.Shape[0];
        var hidden = frame.Shape[1];
        Require(tokens >= 1 && tokens <= limits.MaxTokens, $"{tokens} tokens; 1 to {limits.MaxTokens} are accepted");
        Require(hidden >= 1 && hidden <= limits.MaxHiddenSize, $"hidden size {hidden}; 1 to {limits.MaxHiddenSize} is accepted");
        Require(frame.Positions.Length == tokens, $"{frame.Positions.Length} positions for {tokens} tokens");
        foreach (var p in frame.Positions)
        {
            Require(p >= 0, $"position {p} is negative");
        }

        var k = frame.ExpertsPerToken;
        Require(k >= 0 && k <= limits.MaxExpertsPerToken, $"{k} expert slots per token; 0 to {limits.MaxExpertsPerToken} are accepted");
        Require(frame.Kind != ActivationFrameKind.ExpertInput || k >= 1, "an expert-input frame names at least one expert slot per token");
        Require(frame.ExpertIds.Length == tokens * k, $"{frame.ExpertIds.Length} expert ids for {tokens} tokens × {k} slots");
        Require(frame.GateWeights.Length == tokens * k, $"{frame.GateWeights.Length} gate weights for {tokens} tokens × {k} slots");
        foreach (var e in frame.ExpertIds)
        {
            Require(e is >= -1 and <= ushort.MaxValue, $"expert id {e} is out of range");
        }

        foreach (var w in frame.GateWeights)
        {
            Require(float.IsFinite(w), "a gate weight is not finite");
        }

        var expected = ActivationTensor.PayloadBytes(frame.DType, tokens, hidden);
        Require(payloadLength == expected, $"a {frame.DType} tensor of {tokens}×{hidden} is {expected} bytes, the payload is {payloadLength}");
    }

    private static void Require(bool condition, string problem)
    {
        if (!condition)
        {
            throw new ActivationFrameFormatException($"Invalid activation frame: {problem}.");
        }
    }

    // Every frame on the hot path passes each rule: the message is only formatted for a rule that fails.
    private static void Require(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref ProblemHandler problem)
    {
        if (!condition)
        {
            throw new ActivationFrameFormatException($"Invalid activation frame: {problem.ToStringAndClear()}.");
        }
    }

    /// <summary>Formats a rule's message only when the rule's condition is false.</summary>
    [InterpolatedStringHandler]
    private ref struct ProblemHandler
    {
        private DefaultInterpolatedStringHandler _inner;

        public ProblemHandler(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
        {
            shouldAppend = !condition;
            _inner = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        }

        public void AppendLiteral(string value) => _inner.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

        public string ToStringAndClear() => _inner.ToStringAndClear();
    }
}
