using System.Text.Json.Serialization;

namespace MoeMesh.Experts;

/// <summary>
/// Everything the mesh needs to know about one expert: how to load it, what it is good at, what
/// it costs, and where it may run. One JSON file per expert (see <c>deploy/experts/</c>).
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-manifest")]
public sealed record ExpertManifest
{
    /// <summary>Unique id, used in grain keys and routing plans: lower-case letters, digits, '-', '_' and '.'.</summary>
    [Id(0)] public required string Id { get; init; }

    /// <summary>Name shown to people.</summary>
    [Id(1)] public string? DisplayName { get; init; }

    /// <summary>Engine that runs the model: one of <see cref="ExpertEngines.All"/>.</summary>
    [Id(2)] public required string Engine { get; init; }

    /// <summary>Path of the model file (GGUF or ONNX) on the silo's box; relative paths are resolved against the manifest's folder.</summary>
    [Id(3)] public string? ModelPath { get; init; }

    /// <summary>Context window in tokens.</summary>
    [Id(4)] public int ContextSize { get; init; } = 2048;

    /// <summary>Skills and tags the expert is known for ("math", "code", "biology"); used by routing.</summary>
    [Id(5)] public IReadOnlyList<string> Skills { get; init; } = [];

    /// <summary>Weight quantisation, such as "Q4_K_M" or "F16" (see <see cref="Quantization"/>).</summary>
    [Id(6)] public string Quantization { get; init; } = "Q4_K_M";

    /// <summary>Total parameter count.</summary>
    [Id(7)] public long ParameterCount { get; init; }

    /// <summary>Parameters active per token (smaller than the total for Mixture-of-Experts models); defaults to the total.</summary>
    [Id(8)] public long? ActiveParameterCount { get; init; }

    /// <summary>Where the expert's replicas may run.</summary>
    [Id(9)] public PlacementConstraints Placement { get; init; } = new();

    /// <summary>How many replicas the mesh should keep, spread over silos.</summary>
    [Id(10)] public int Replicas { get; init; } = 1;

    /// <summary>A pinned expert is never unloaded to make room for another.</summary>
    [Id(11)] public bool Pinned { get; init; }

    /// <summary>Engine-specific settings (for llama.cpp: "gpu_layers", "threads"; for replay: "model").</summary>
    [Id(12)] public IReadOnlyDictionary<string, string> EngineOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>Model size in bytes when known (the file size); otherwise estimated from parameters and quantisation.</summary>
    [Id(13)] public long? ModelSizeBytes { get; init; }

    /// <summary>
    /// This model's name in the router's training data (the recorded MMLU-Pro outputs, such as
    /// "Meta-Llama-3_1-8B-Instruct"); the router then scores it with the gate and skill profiles
    /// fitted on those records, and the replay engine answers from them. Null for models without
    /// recorded history, which are scored by their skill tags.
    /// </summary>
    [Id(14)] public string? RecordedModel { get; init; }

    /// <summary>Parameters that do work for each token.</summary>
    [JsonIgnore]
    public long ActiveParameters => ActiveParameterCount ?? ParameterCount;

    /// <summary>Bytes of weights in memory: the declared size, or parameters × bits per weight / 8.</summary>
    [JsonIgnore]
    public long WeightBytes
    {
        get
        {
            if (ModelSizeBytes is > 0 and var size)
            {
                return size;
            }

            var bits = Experts.Quantization.TryGetBitsPerWeight(Quantization, out var b) ? b : 16;
            return (long)Math.Ceiling(ParameterCount * bits / 8.0);
        }
    }

    /// <summary>Bytes read from memory to decode one token (active weights only).</summary>
    [JsonIgnore]
    public long ActiveWeightBytes
    {
        get
        {
            if (ParameterCount <= 0)
            {
                return WeightBytes;
            }

            return (long)Math.Ceiling(WeightBytes * (ActiveParameters / (double)ParameterCount));
        }
    }

    /// <summary>The name to show: the display name, or the id.</summary>
    [JsonIgnore]
    public string Title => string.IsNullOrWhiteSpace(DisplayName) ? Id : DisplayName;
}
