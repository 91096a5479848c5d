using LLama.Native;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Inference.Moe.Oracle;

/// <summary>
/// llama.cpp's own quantizer (through LLamaSharp): turns an F32 GGUF into BF16, F16, Q8_0, Q6_K or
/// Q4_K files exactly as users' files are made, so the dequantisers can be checked against them.
/// </summary>
public static class LlamaCppQuantizer
{
    /// <summary>Writes <paramref name="output"/>: every matrix of <paramref name="input"/> in <paramref name="type"/> (norms stay F32).</summary>
    public static void Quantize(string input, string output, GgmlType type, int threads = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(output);
        if (!File.Exists(input))
        {
            throw new FileNotFoundException($"Model file '{input}' does not exist.", input);
        }

        var fileType = type switch
        {
            GgmlType.BF16 => LLamaFtype.MOSTLY_BF16,
            GgmlType.F16 => LLamaFtype.MOSTLY_F16,
            GgmlType.Q8_0 => LLamaFtype.MOSTLY_Q8_0,
            GgmlType.Q6_K => LLamaFtype.MOSTLY_Q6_K,
            GgmlType.Q4_K => LLamaFtype.MOSTLY_Q4_K_S,
            _ => throw new ArgumentException($"Quantizing to {type} is not offered (BF16, F16, Q8_0, Q6_K, Q4_K are).", nameof(type)),
        };
        LlamaRuntime.EnsureInitialized();
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = fileType;
        parameters.nthread = threads;
        parameters.pure = true;
        var result = NativeApi.llama_model_quantize(input, output, ref parameters);
        if (result != 0)
        {
            throw new InvalidOperationException($"llama.cpp could not quantize '{input}' to {type} (error {result}).");
        }
    }
}
