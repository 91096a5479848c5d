using System.Runtime.InteropServices;

namespace MoeMesh.Inference.Llama.Native;

/// <summary>
/// Source-generated P/Invoke declarations for the llama.cpp v0.5.0 C API (libllama) and the few
/// ggml entry points it needs (libggml). The library names are resolved by
/// <see cref="LlamaNativeLibrary"/>; call <see cref="LlamaRuntime.EnsureInitialized"/> before any
/// of these. Signatures use only blittable types so no marshalling code runs per call.
/// </summary>
internal static unsafe partial class LlamaNative
{
    public const string LlamaLibrary = "llama";
    public const string GgmlLibrary = "ggml";

    public const int TokenNull = -1;
    public const uint DefaultSeed = 0xFFFFFFFF;

    /// <summary>Every libllama export the engine binds; a library missing one is not the pinned version.</summary>
    public static readonly string[] RequiredLlamaExports =
    [
        "llama_version", "llama_backend_init", "llama_log_set",
        "llama_model_default_params", "llama_context_default_params", "llama_sampler_chain_default_params",
        "llama_model_load_from_file", "llama_model_free", "llama_init_from_model", "llama_free",
        "llama_n_ctx", "llama_n_batch", "llama_get_memory",
        "llama_model_get_vocab", "llama_model_n_ctx_train", "llama_model_n_embd", "llama_model_n_layer",
        "llama_model_n_head", "llama_model_n_head_kv", "llama_model_size", "llama_model_n_params",
        "llama_model_chat_template", "llama_model_desc", "llama_model_has_encoder", "llama_model_has_decoder",
        "llama_supports_gpu_offload",
        "llama_vocab_n_tokens", "llama_vocab_is_eog", "llama_vocab_get_add_bos",
        "llama_tokenize", "llama_token_to_piece", "llama_detokenize", "llama_chat_apply_template",
        "llama_memory_seq_rm",
        "llama_batch_init", "llama_batch_free", "llama_decode",
        "llama_set_abort_callback",
        "llama_sampler_chain_init", "llama_sampler_chain_add", "llama_sampler_init_greedy", "llama_sampler_init_dist",
        "llama_sampler_init_top_k", "llama_sampler_init_top_p", "llama_sampler_init_min_p", "llama_sampler_init_temp",
        "llama_sampler_init_penalties", "llama_sampler_sample", "llama_sampler_accept", "llama_sampler_free",
    ];

    /// <summary>Every libggml export the engine binds.</summary>
    public static readonly string[] RequiredGgmlExports =
    [
        "ggml_backend_load_all_from_path", "ggml_backend_dev_count", "ggml_backend_dev_get", "ggml_backend_dev_name",
    ];

    // ---- library and backend ----

    [LibraryImport(LlamaLibrary)]
    public static partial byte* llama_version();

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_backend_init();

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_log_set(delegate* unmanaged<GgmlLogLevel, byte*, nint, void> callback, nint userData);

    [LibraryImport(LlamaLibrary)]
    public static partial byte llama_supports_gpu_offload();

    [LibraryImport(GgmlLibrary)]
    public static partial void ggml_backend_load_all_from_path(byte* directory);

    [LibraryImport(GgmlLibrary)]
    public static partial nuint ggml_backend_dev_count();

    [LibraryImport(GgmlLibrary)]
    public static partial nint ggml_backend_dev_get(nuint index);

    [LibraryImport(GgmlLibrary)]
    public static partial byte* ggml_backend_dev_name(nint device);

    // ---- default parameters ----

    [LibraryImport(LlamaLibrary)]
    public static partial LlamaModelParams llama_model_default_params();

    [LibraryImport(LlamaLibrary)]
    public static partial LlamaContextParams llama_context_default_params();

    [LibraryImport(LlamaLibrary)]
    public static partial LlamaSamplerChainParams llama_sampler_chain_default_params();

    // ---- model ----

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_model_load_from_file(byte* path, LlamaModelParams parameters);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_model_free(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_model_get_vocab(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_model_n_ctx_train(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_model_n_embd(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_model_n_layer(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_model_n_head(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_model_n_head_kv(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial ulong llama_model_size(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial ulong llama_model_n_params(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial byte* llama_model_chat_template(nint model, byte* name);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_model_desc(nint model, byte* buffer, nuint bufferSize);

    [LibraryImport(LlamaLibrary)]
    public static partial byte llama_model_has_encoder(nint model);

    [LibraryImport(LlamaLibrary)]
    public static partial byte llama_model_has_decoder(nint model);

    // ---- context ----

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_init_from_model(nint model, LlamaContextParams parameters);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_free(nint context);

    [LibraryImport(LlamaLibrary)]
    public static partial uint llama_n_ctx(nint context);

    [LibraryImport(LlamaLibrary)]
    public static partial uint llama_n_batch(nint context);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_get_memory(nint context);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_set_abort_callback(nint context, delegate* unmanaged<nint, byte> callback, nint userData);

    // ---- memory (KV cache) ----

    [LibraryImport(LlamaLibrary)]
    public static partial byte llama_memory_seq_rm(nint memory, int sequence, int fromPosition, int toPosition);

    // ---- vocabulary and text ----

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_vocab_n_tokens(nint vocab);

    [LibraryImport(LlamaLibrary)]
    public static partial byte llama_vocab_is_eog(nint vocab, int token);

    [LibraryImport(LlamaLibrary)]
    public static partial byte llama_vocab_get_add_bos(nint vocab);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_tokenize(nint vocab, byte* text, int textLength, int* tokens, int maxTokens, byte addSpecial, byte parseSpecial);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_token_to_piece(nint vocab, int token, byte* buffer, int length, int leftStrip, byte special);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_detokenize(nint vocab, int* tokens, int tokenCount, byte* text, int maxLength, byte removeSpecial, byte unparseSpecial);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_chat_apply_template(byte* template, LlamaChatMessage* messages, nuint messageCount, byte addAssistant, byte* buffer, int length);

    // ---- batches and decoding ----

    [LibraryImport(LlamaLibrary)]
    public static partial LlamaBatch llama_batch_init(int tokenCapacity, int embeddingSize, int maxSequencesPerToken);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_batch_free(LlamaBatch batch);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_decode(nint context, LlamaBatch batch);

    // ---- sampling ----

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_chain_init(LlamaSamplerChainParams parameters);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_sampler_chain_add(nint chain, nint sampler);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_greedy();

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_dist(uint seed);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_top_k(int k);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_top_p(float p, nuint minKeep);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_min_p(float p, nuint minKeep);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_temp(float temperature);

    [LibraryImport(LlamaLibrary)]
    public static partial nint llama_sampler_init_penalties(int vocabularySize, int lastN, float repeatPenalty, float frequencyPenalty, float presencePenalty);

    [LibraryImport(LlamaLibrary)]
    public static partial int llama_sampler_sample(nint sampler, nint context, int index);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_sampler_accept(nint sampler, int token);

    [LibraryImport(LlamaLibrary)]
    public static partial void llama_sampler_free(nint sampler);
}
