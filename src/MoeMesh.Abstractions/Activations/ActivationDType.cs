namespace MoeMesh.Activations;

/// <summary>How an activation frame's tensor payload stores its numbers. The values are the wire codes.</summary>
public enum ActivationDType
{
    /// <summary>IEEE 754 binary32, little-endian: 4 bytes a value; exact.</summary>
    F32 = 0,

    /// <summary>IEEE 754 binary16, little-endian: 2 bytes a value.</summary>
    F16 = 1,

    /// <summary>bfloat16 (the upper half of a binary32, rounded to nearest even), little-endian: 2 bytes a value.</summary>
    BF16 = 2,

    /// <summary>
    /// Blocks of 32 values along the last dimension: a binary16 scale d then 32 int8 q, value = q·d
    /// (34 bytes a block, the GGML Q8_0 layout). A row whose length is not a multiple of 32 is padded
    /// with zeros to a whole block.
    /// </summary>
    Q8_0 = 3,
}

/// <summary>Which way a frame travels.</summary>
public enum ActivationFrameKind
{
    /// <summary>Backbone → expert shard: the experts' input with the chosen experts and gate weights per token.</summary>
    ExpertInput = 0,

    /// <summary>Expert shard → backbone: per token, the weighted sum of the shard's experts' outputs.</summary>
    ExpertOutput = 1,
}
