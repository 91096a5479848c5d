using Microsoft.Extensions.Options;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>How the ONNX Runtime sessions of an MoE model run.</summary>
public sealed class MoeExecutionOptions
{
    /// <summary>Most intra-operator threads a session may use.</summary>
    public const int MaxThreads = 256;

    /// <summary>Defaults: one thread per session run.</summary>
    public static MoeExecutionOptions Default => new();

    /// <summary>
    /// Threads of a step: the backbone's sessions split their graphs over this many, and an expert
    /// runner runs up to this many of a step's experts side by side (each expert graph on one
    /// thread: a decode step's are too small to split). 1 (the default) runs everything on the
    /// calling thread, which suits many small graphs called one after another.
    /// </summary>
    public int Threads { get; set; } = 1;
}

/// <summary>Checks <see cref="MoeExecutionOptions"/> when the host starts.</summary>
public sealed class MoeExecutionOptionsValidator : IValidateOptions<MoeExecutionOptions>
{
    public ValidateOptionsResult Validate(string? name, MoeExecutionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Threads is < 1 or > MoeExecutionOptions.MaxThreads
            ? ValidateOptionsResult.Fail($"MoE execution threads must be 1..{MoeExecutionOptions.MaxThreads}; {options.Threads} was given.")
            : ValidateOptionsResult.Success;
    }
}
