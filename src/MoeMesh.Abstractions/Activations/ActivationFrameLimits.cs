namespace MoeMesh.Activations;

/// <summary>What a decoder accepts; anything larger is rejected before it is allocated.</summary>
public sealed record ActivationFrameLimits
{
    /// <summary>The defaults: a 4096-token prefill chunk of H = 8192 in f32 fits.</summary>
    public static ActivationFrameLimits Default { get; } = new();

    /// <summary>Largest encoded frame, in bytes.</summary>
    public int MaxFrameBytes { get; init; } = 160 * 1024 * 1024;

    /// <summary>Most tokens (tensor rows) in one frame.</summary>
    public int MaxTokens { get; init; } = 8192;

    /// <summary>Largest hidden size (tensor's last dimension).</summary>
    public int MaxHiddenSize { get; init; } = 65536;

    /// <summary>Most expert slots per token.</summary>
    public int MaxExpertsPerToken { get; init; } = 64;

    /// <summary>Longest model or sequence id, in UTF-8 bytes.</summary>
    public int MaxIdBytes { get; init; } = 512;
}
