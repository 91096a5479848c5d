using MoeMesh.Activations;
using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Moe;

/// <summary>Builds a shard's input frame from a layer's routing and reads its reply.</summary>
internal static class MoeFrames
{
    /// <summary>An encoded input frame with the rows it carries (kept for a local fallback run).</summary>
    internal sealed record Outgoing(byte[] Bytes, int[] Rows, float[] Hidden, int[] ExpertIds, float[] Weights, int K, int HiddenSize);

    public static Outgoing Input(string modelId, string sequenceId, MoeLayerRouting routing, int[] rows, int[] ids, ActivationDType dtype)
    {
        var (h, k) = (routing.HiddenSize, routing.ExpertsPerToken);
        var hidden = new float[rows.Length * h];
        var expertIds = new int[rows.Length * k];
        var weights = new float[rows.Length * k];
        var positions = new int[rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            var t = rows[r];
            routing.Hidden.AsSpan(t * h, h).CopyTo(hidden.AsSpan(r * h));
            ids.AsSpan(t * k, k).CopyTo(expertIds.AsSpan(r * k));
            routing.Weights.AsSpan(t * k, k).CopyTo(weights.AsSpan(r * k));
            positions[r] = routing.FirstPosition + t;
        }

        var frame = ActivationFrame.Create(
            ActivationFrameKind.ExpertInput, modelId, routing.Layer, sequenceId, positions, hidden, h, dtype, k, expertIds, weights);
        return new Outgoing(ActivationFrameCodec.Encode(frame), rows, hidden, expertIds, weights, k, h);
    }

    public static float[] Output(byte[] reply, Outgoing sent)
    {
        var frame = ActivationFrameCodec.Decode(reply);
        if (frame.Kind != ActivationFrameKind.ExpertOutput || frame.TokenCount != sent.Rows.Length || frame.HiddenSize != sent.HiddenSize)
        {
            throw new ActivationFrameFormatException(
                $"A shard answered with a {frame.Kind} frame of {frame.TokenCount}×{frame.HiddenSize}; expected an output of {sent.Rows.Length}×{sent.HiddenSize}.");
        }

        return frame.ToFloats();
    }
}
