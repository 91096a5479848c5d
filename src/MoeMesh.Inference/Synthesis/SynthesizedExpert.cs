using MoeMesh.Experts;
using MoeMesh.Inference.Experts;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Synthesis;

/// <summary>A synthesized model and the expert manifest written beside it.</summary>
/// <param name="Model">The GGUF file.</param>
/// <param name="ManifestPath">The manifest JSON file.</param>
/// <param name="Manifest">The manifest as written (its model path relative to the manifest).</param>
public sealed record SynthesizedExpert(SynthesizedModel Model, string ManifestPath, ExpertManifest Manifest)
{
    /// <summary>
    /// Writes <c>&lt;name&gt;.gguf</c> and <c>&lt;name&gt;.json</c> into <paramref name="directory"/>: a
    /// tiny llama model and a llama.cpp expert manifest pointing at it. The demo and tests use this
    /// to get a working expert on any machine.
    /// </summary>
    public static SynthesizedExpert Write(string directory, TinyLlamaOptions options, int contextSize = 2048, IReadOnlyList<string>? skills = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        if (contextSize < 8 || contextSize > options.ContextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(contextSize), contextSize, $"The context size must be between 8 and the model's context length ({options.ContextLength}).");
        }

        var fileName = options.Name + ".gguf";
        var draft = new ExpertManifest { Id = options.Name, Engine = ExpertEngines.LlamaCpp, ModelPath = fileName, ContextSize = contextSize };
        var problems = ExpertManifestValidator.Validate(draft);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The model name does not make a valid expert: {string.Join("; ", problems)}.", nameof(options));
        }

        var model = TinyLlamaSynthesizer.Write(Path.Combine(directory, fileName), options);
        var manifest = draft with
        {
            DisplayName = $"{options.Name} (synthesized llama, {options.Layers} layers, hidden {options.EmbeddingLength})",
            Skills = skills ?? ["general"],
            Quantization = options.WeightType == GgmlType.F16 ? "F16" : "F32",
            ParameterCount = model.ParameterCount,
            ModelSizeBytes = model.FileBytes,
        };
        var manifestPath = Path.Combine(Path.GetFullPath(directory), options.Name + ".json");
        ExpertManifestFile.Write(manifestPath, manifest);
        return new SynthesizedExpert(model, manifestPath, manifest);
    }
}
