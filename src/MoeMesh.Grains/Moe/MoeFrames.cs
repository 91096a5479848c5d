using System.Buffers;
using MoeMesh.Activations;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>Builds a shard's input frame from a layer's routing and reads its reply.</summary>
internal static class MoeFrames
{
    /// <summary>
    /// A shard's input frame before encoding: what it carries, kept so each attempt (a retry on a
    /// replica, a local fallback run) encodes it again straight into its transport's buffer, and no
    /// encoded copy of the request is held for the step.
    /// </summary>
    internal sealed record Outgoing(
        string ModelId, int Layer, string SequenceId, int[] Positions, int[] Rows, float[] Hidden, int[] ExpertIds, float[] Weights, int K, int HiddenSize, ActivationDType DType)
    {
        /// <summary>Encodes the frame into <paramref name="destination"/>.</summary>
        public void Encode(IBufferWriter<byte> destination)
            => ActivationFrameCodec.Encode(destination, ActivationFrameKind.ExpertInput, ModelId, Layer, SequenceId, Positions, Hidden, HiddenSize, DType, K, ExpertIds, Weights);

        /// <summary>The encoded frame as an array, for a grain call.</summary>
        public byte[] ToArray()
        {
            var bytes = new ArrayBufferWriter<byte>((int)ActivationTensor.PayloadBytes(DType, Rows.Length, HiddenSize) + 256 + (Rows.Length * 5) + (ExpertIds.Length * 10));
            Encode(bytes);
            return bytes.WrittenSpan.ToArray();
        }
    }

    /// <summary>
    /// The frame for <paramref name="shard"/>: the given token rows, with slots naming other shards'
    /// experts blanked (-1), so a silo holding several shards runs each frame through one of them only.
    /// </summary>
    public static Outgoing Input(string sequenceId, MoeLayerRouting routing, ExpertShardKey shard, int[] rows, int[] ids, ActivationDType dtype)
    {
        var (h, k) = (routing.HiddenSize, routing.ExpertsPerToken);
        // Every token goes to this shard (a decode step's one token, as a rule): the layer's own hidden rows serve as they are.
        var all = rows.Length == routing.TokenCount && routing.Hidden.Length == rows.Length * h;
        var hidden = all ? routing.Hidden : new float[rows.Length * h];
        var expertIds = new int[rows.Length * k];
        var weights = new float[rows.Length * k];
        var positions = new int[rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            var t = rows[r];
            if (!all)
            {
                routing.Hidden.AsSpan(t * h, h).CopyTo(hidden.AsSpan(r * h));
            }

            for (var j = 0; j < k; j++)
            {
                var id = ids[(t * k) + j];
                expertIds[(r * k) + j] = shard.Holds(id) ? id : -1;
            }

            routing.Weights.AsSpan(t * k, k).CopyTo(weights.AsSpan(r * k));
            positions[r] = routing.FirstPosition + t;
        }

        return new Outgoing(shard.ModelId, routing.Layer, sequenceId, positions, rows, hidden, expertIds, weights, k, h, dtype);
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
