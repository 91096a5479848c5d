using System.Runtime.InteropServices;
using System.Text;
using MoeMesh.Inference.Llama.Native;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama.Native;

/// <summary>
/// Compiles a C program against the pinned llama.h that prints sizeof and offsetof of every struct
/// the binding shares with llama.cpp, and compares them with the managed declarations.
/// </summary>
public sealed class LlamaStructLayoutTests
{
    private static readonly (string CStruct, Type Managed, (string C, string Managed)[] Fields)[] Structs =
    [
        ("struct llama_model_params", typeof(LlamaModelParams),
        [
            ("devices", nameof(LlamaModelParams.Devices)),
            ("tensor_buft_overrides", nameof(LlamaModelParams.TensorBufferTypeOverrides)),
            ("n_gpu_layers", nameof(LlamaModelParams.GpuLayerCount)),
            ("split_mode", nameof(LlamaModelParams.SplitMode)),
            ("load_mode", nameof(LlamaModelParams.LoadMode)),
            ("lazy_mode", nameof(LlamaModelParams.LazyMode)),
            ("main_gpu", nameof(LlamaModelParams.MainGpu)),
            ("tensor_split", nameof(LlamaModelParams.TensorSplit)),
            ("progress_callback", nameof(LlamaModelParams.ProgressCallback)),
            ("progress_callback_user_data", nameof(LlamaModelParams.ProgressCallbackUserData)),
            ("kv_overrides", nameof(LlamaModelParams.KeyValueOverrides)),
            ("vocab_only", nameof(LlamaModelParams.VocabOnly)),
            ("check_tensors", nameof(LlamaModelParams.CheckTensors)),
            ("use_extra_bufts", nameof(LlamaModelParams.UseExtraBufferTypes)),
            ("no_host", nameof(LlamaModelParams.NoHost)),
            ("no_alloc", nameof(LlamaModelParams.NoAlloc)),
            ("load_mtp", nameof(LlamaModelParams.LoadMtp)),
        ]),
        ("struct llama_context_params", typeof(LlamaContextParams),
        [
            ("n_ctx", nameof(LlamaContextParams.ContextSize)),
            ("n_batch", nameof(LlamaContextParams.BatchSize)),
            ("n_ubatch", nameof(LlamaContextParams.MicroBatchSize)),
            ("n_seq_max", nameof(LlamaContextParams.MaxSequences)),
            ("n_rs_seq", nameof(LlamaContextParams.RecurrentStateSnapshotsPerSequence)),
            ("n_outputs_max", nameof(LlamaContextParams.MaxOutputs)),
            ("n_outputs_max_per_seq", nameof(LlamaContextParams.MaxOutputsPerSequence)),
            ("n_threads", nameof(LlamaContextParams.Threads)),
            ("n_threads_batch", nameof(LlamaContextParams.BatchThreads)),
            ("ctx_type", nameof(LlamaContextParams.ContextType)),
            ("rope_scaling_type", nameof(LlamaContextParams.RopeScalingType)),
            ("pooling_type", nameof(LlamaContextParams.PoolingType)),
            ("attention_type", nameof(LlamaContextParams.AttentionType)),
            ("flash_attn_type", nameof(LlamaContextParams.FlashAttentionType)),
            ("rope_freq_base", nameof(LlamaContextParams.RopeFrequencyBase)),
            ("rope_freq_scale", nameof(LlamaContextParams.RopeFrequencyScale)),
            ("yarn_ext_factor", nameof(LlamaContextParams.YarnExtFactor)),
            ("yarn_attn_factor", nameof(LlamaContextParams.YarnAttnFactor)),
            ("yarn_beta_fast", nameof(LlamaContextParams.YarnBetaFast)),
            ("yarn_beta_slow", nameof(LlamaContextParams.YarnBetaSlow)),
            ("yarn_orig_ctx", nameof(LlamaContextParams.YarnOriginalContext)),
            ("defrag_thold", nameof(LlamaContextParams.DefragThreshold)),
            ("cb_eval", nameof(LlamaContextParams.EvalCallback)),
            ("cb_eval_user_data", nameof(LlamaContextParams.EvalCallbackUserData)),
            ("type_k", nameof(LlamaContextParams.KeyCacheType)),
            ("type_v", nameof(LlamaContextParams.ValueCacheType)),
            ("abort_callback", nameof(LlamaContextParams.AbortCallback)),
            ("abort_callback_data", nameof(LlamaContextParams.AbortCallbackData)),
            ("embeddings", nameof(LlamaContextParams.Embeddings)),
            ("offload_kqv", nameof(LlamaContextParams.OffloadKqv)),
            ("no_perf", nameof(LlamaContextParams.NoPerf)),
            ("op_offload", nameof(LlamaContextParams.OpOffload)),
            ("swa_full", nameof(LlamaContextParams.SwaFull)),
            ("kv_unified", nameof(LlamaContextParams.KvUnified)),
            ("samplers", nameof(LlamaContextParams.Samplers)),
            ("n_samplers", nameof(LlamaContextParams.SamplerCount)),
            ("ctx_other", nameof(LlamaContextParams.OtherContext)),
        ]),
        ("struct llama_batch", typeof(LlamaBatch),
        [
            ("n_tokens", nameof(LlamaBatch.TokenCount)),
            ("token", nameof(LlamaBatch.Token)),
            ("embd", nameof(LlamaBatch.Embeddings)),
            ("pos", nameof(LlamaBatch.Position)),
            ("n_seq_id", nameof(LlamaBatch.SequenceIdCount)),
            ("seq_id", nameof(LlamaBatch.SequenceIds)),
            ("logits", nameof(LlamaBatch.Logits)),
        ]),
        ("struct llama_sampler_chain_params", typeof(LlamaSamplerChainParams),
        [
            ("no_perf", nameof(LlamaSamplerChainParams.NoPerf)),
        ]),
        ("struct llama_chat_message", typeof(LlamaChatMessage),
        [
            ("role", nameof(LlamaChatMessage.Role)),
            ("content", nameof(LlamaChatMessage.Content)),
        ]),
    ];

    [Fact]
    public void Every_shared_struct_matches_the_pinned_header()
    {
        var source = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include \"llama.h\"\nint main(void) {\n");
        foreach (var (cStruct, _, fields) in Structs)
        {
            source.Append($"    printf(\"{cStruct}|%zu\\n\", sizeof({cStruct}));\n");
            foreach (var (cField, _) in fields)
            {
                source.Append($"    printf(\"{cStruct}.{cField}|%zu|%zu\\n\", offsetof({cStruct}, {cField}), sizeof((({cStruct} *)0)->{cField}));\n");
            }
        }

        source.Append("    return 0;\n}\n");

        using var directory = new TemporaryDirectory();
        var output = CCompiler.CompileAndRun(source.ToString(), directory.Path, "-I", NativeAssets.IncludeDirectory);
        var native = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('|'))
            .ToDictionary(parts => parts[0], parts => parts);

        var mismatches = new List<string>();
        foreach (var (cStruct, managed, fields) in Structs)
        {
            var size = long.Parse(native[cStruct][^1]);
            if (Marshal.SizeOf(managed) != size)
            {
                mismatches.Add($"{cStruct}: sizeof {size}, managed {Marshal.SizeOf(managed)}");
            }

            Assert.Equal(
                managed.GetFields().Select(f => f.Name).Order(),
                fields.Select(f => f.Managed).Order());
            foreach (var (cField, managedField) in fields)
            {
                var parts = native[$"{cStruct}.{cField}"];
                var offset = long.Parse(parts[^2]);
                var fieldSize = long.Parse(parts[^1]);
                var managedOffset = Marshal.OffsetOf(managed, managedField).ToInt64();
                var fieldType = managed.GetField(managedField)!.FieldType;
                var managedSize = Marshal.SizeOf(fieldType.IsPointer ? typeof(nint) : fieldType.IsEnum ? Enum.GetUnderlyingType(fieldType) : fieldType);
                if (managedOffset != offset || managedSize != fieldSize)
                {
                    mismatches.Add($"{cStruct}.{cField}: offset {offset} size {fieldSize}, managed {managedField} offset {managedOffset} size {managedSize}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}
