namespace MoeMesh.Inference.Llama.Runtime;

/// <summary>The binding and the llama.cpp build the engine runs on.</summary>
public static class LlamaBuild
{
    /// <summary>The LLamaSharp release the engine binds through (see Directory.Packages.props).</summary>
    public const string LLamaSharpVersion = "0.30.0";

    /// <summary>The llama.cpp commit LLamaSharp's structs and its backend packages are built from.</summary>
    public const string LlamaCppCommit = "c0c7e147e7efa6c5858754b47259ba4880f8a906";

    /// <summary>The short form of <see cref="LlamaCppCommit"/>, as messages and docs show it.</summary>
    public const string LlamaCppShortCommit = "c0c7e147";

    /// <summary>Environment variable naming a libllama to load instead of the backend package's (a Jetson CUDA build).</summary>
    public const string LibraryPathVariable = "MOEMESH_LLAMA_LIBRARY";

    /// <summary>The configuration key with the same meaning as <see cref="LibraryPathVariable"/> (the variable wins).</summary>
    public const string LibraryPathSetting = "MoeMesh:Llama:NativeLibraryPath";

    /// <summary>What a build of the matching version is, for error messages.</summary>
    public const string ExpectedBuild = $"llama.cpp commit {LlamaCppShortCommit} (the build LLamaSharp {LLamaSharpVersion} is written for)";

    /// <summary>
    /// Exports every library of that build has and the engine calls; a library without one of them
    /// is another llama.cpp version (older or newer builds rename these).
    /// </summary>
    public static IReadOnlyList<string> RequiredExports { get; } =
    [
        "llama_backend_init", "llama_model_load_from_file", "llama_model_free", "llama_init_from_model", "llama_free",
        "llama_model_get_vocab", "llama_vocab_n_tokens", "llama_vocab_is_eog", "llama_tokenize", "llama_token_to_piece",
        "llama_detokenize", "llama_chat_apply_template", "llama_get_memory", "llama_memory_seq_rm", "llama_decode",
        "llama_get_logits_ith", "llama_set_abort_callback", "llama_sampler_chain_init", "llama_sampler_init_penalties",
        "llama_sampler_sample", "llama_model_is_diffusion", "llama_n_rs_seq",
    ];
}
