namespace MoeMesh.Activations;

/// <summary>
/// The activations of some tokens of one sequence at one MoE layer, on their way to an expert shard
/// (<see cref="ActivationFrameKind.ExpertInput"/>, with the chosen experts and gate weights) or back
/// (<see cref="ActivationFrameKind.ExpertOutput"/>, the shard's weighted partial sum). Frames cross
/// silos as MessagePack bytes (<see cref="ActivationFrameCodec"/>; schema in docs/activation-frames.md).
/// </summary>
public sealed class ActivationFrame
{
    /// <summary>Which way the frame travels.</summary>
    public required ActivationFrameKind Kind { get; init; }

    /// <summary>The model (its expert id in the mesh).</summary>
    public required string ModelId { get; init; }

    /// <summary>The MoE layer (block index).</summary>
    public required int Layer { get; init; }

    /// <summary>The sequence the tokens belong to.</summary>
    public required string SequenceId { get; init; }

    /// <summary>Position in the sequence of each token (one per row of the tensor).</summary>
    public required int[] Positions { get; init; }

    /// <summary>How <see cref="Payload"/> stores its numbers.</summary>
    public required ActivationDType DType { get; init; }

    /// <summary>Tensor shape, outermost first: [tokens, hidden].</summary>
    public required int[] Shape { get; init; }

    /// <summary>Expert slots per token (k); 0 on an output frame.</summary>
    public int ExpertsPerToken { get; init; }

    /// <summary>Chosen experts: tokens × k, -1 for an empty slot.</summary>
    public int[] ExpertIds { get; init; } = [];

    /// <summary>Gate weights of the chosen experts: tokens × k.</summary>
    public float[] GateWeights { get; init; } = [];

    /// <summary>The tensor, encoded as <see cref="DType"/> (see <see cref="ActivationTensor"/>).</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Tokens in the frame (the tensor's rows).</summary>
    public int TokenCount => Shape.Length == 0 ? 0 : Shape[0];

    /// <summary>Values per token (the tensor's last dimension).</summary>
    public int HiddenSize => Shape.Length == 0 ? 0 : Shape[^1];

    /// <summary>Builds a frame whose payload encodes <paramref name="hidden"/> (tokens × hiddenSize) as <paramref name="dtype"/>.</summary>
    public static ActivationFrame Create(
        ActivationFrameKind kind, string modelId, int layer, string sequenceId, int[] positions,
        ReadOnlySpan<float> hidden, int hiddenSize, ActivationDType dtype,
        int expertsPerToken = 0, int[]? expertIds = null, float[]? gateWeights = null) => new()
        {
            Kind = kind,
            ModelId = modelId,
            Layer = layer,
            SequenceId = sequenceId,
            Positions = positions,
            DType = dtype,
            Shape = [hidden.Length / hiddenSize, hiddenSize],
            ExpertsPerToken = expertsPerToken,
            ExpertIds = expertIds ?? [],
            GateWeights = gateWeights ?? [],
            Payload = ActivationTensor.Encode(hidden, hiddenSize, dtype),
        };

    /// <summary>Decodes the tensor to floats (tokens × hidden); rejects a payload that is malformed.</summary>
    public float[] ToFloats()
    {
        var values = new float[checked(TokenCount * HiddenSize)];
        DecodeTensor(values);
        return values;
    }

    /// <summary>
    /// Decodes the tensor into <paramref name="destination"/>, which must hold exactly tokens × hidden
    /// values (a slice of a pooled or reused buffer); rejects a payload that is malformed.
    /// </summary>
    public void DecodeTensor(Span<float> destination)
    {
        var count = checked(TokenCount * HiddenSize);
        if (destination.Length != count)
        {
            throw new ArgumentException($"The frame's tensor holds {count} values; the destination holds {destination.Length}.", nameof(destination));
        }

        ActivationTensor.Decode(Payload.Span, HiddenSize, DType, destination);
    }
}
