using System.Buffers;
using MoeMesh.Activations;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>Builds a shard's input frame from a layer's routing and reads its reply.</summary>
internal static class MoeFrames
{
    /// <summary>An encoded input frame with the rows it carries (kept for a local fallback run).</summary>
    internal sealed record Outgoing(byte[] Bytes, int[] Rows, float[] Hidden, int[] ExpertIds, float[] Weights, int K, int HiddenSize);

    /// <summary>
    /// The frame for <paramref name="shard"/>: the given token rows, with slots naming other shards'
    /// experts blanked (-1), so a silo holding several shards runs each frame through one of them only.
    /// </summary>
    public static Outgoing Input(string sequenceId, MoeLayerRouting routing, ExpertShardKey shard, int[] rows, int[] ids, ActivationDType dtype)
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
            for (var j = 0; j < k; j++)
            {
                var id = ids[(t * k) + j];
                expertIds[(r * k) + j] = shard.Holds(id) ? id : -1;
            }

            routing.Weights.AsSpan(t * k, k).CopyTo(weights.AsSpan(r * k));
            positions[r] = routing.FirstPosition + t;
        }

        // The tensor is encoded in place: the kept bytes (for retries on replicas) are the only copy.
        var bytes = new ArrayBufferWriter<byte>((int)ActivationTensor.PayloadBytes(dtype, rows.Length, h) + 256 + (rows.Length * 5) + (expertIds.Length * 10));
        ActivationFrameCodec.Encode(bytes, ActivationFrameKind.ExpertInput, shard.ModelId, routing.Layer, sequenceId, positions, hidden, h, dtype, k, expertIds, weights);
        return new Outgoing(bytes.WrittenSpan.ToArray(), rows, hidden, expertIds, weights, k, h);
    }

    public static float[] Output(ReadOnlyMemory<byte> reply, Outgoing sent)
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
