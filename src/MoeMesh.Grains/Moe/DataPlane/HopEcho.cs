using System.Buffers;
using MoeMesh.Activations;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>What a hop costs besides the experts: decode the input frame, encode an output frame of the same shape.</summary>
internal static class HopEcho
{
    /// <summary>The model id of benchmark frames.</summary>
    public const string ModelId = "hop-bench";

    public static byte[] Reply(byte[] frame)
    {
        var reply = new ArrayBufferWriter<byte>(frame.Length + 64);
        Reply(ActivationFrameCodec.Decode(frame), reply);
        return reply.WrittenSpan.ToArray();
    }

    /// <summary>Answers a decoded input frame into <paramref name="destination"/>; the tensor passes through a pooled buffer.</summary>
    public static void Reply(ActivationFrame input, IBufferWriter<byte> destination)
    {
        var count = input.TokenCount * input.HiddenSize;
        var values = ArrayPool<float>.Shared.Rent(count);
        try
        {
            input.DecodeTensor(values.AsSpan(0, count));
            ActivationFrameCodec.Encode(
                destination, ActivationFrameKind.ExpertOutput, input.ModelId, input.Layer, input.SequenceId, input.Positions,
                values.AsSpan(0, count), input.HiddenSize, input.DType);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    public static byte[] SampleInput(int hiddenSize, ActivationDType dtype)
    {
        var random = new Random(42);
        var hidden = new float[hiddenSize];
        for (var i = 0; i < hidden.Length; i++)
        {
            hidden[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return ActivationFrameCodec.Encode(ActivationFrame.Create(
            ActivationFrameKind.ExpertInput, ModelId, 0, "hop", [0], hidden, hiddenSize, dtype, 2, [0, 1], [0.6f, 0.4f]));
    }
}
