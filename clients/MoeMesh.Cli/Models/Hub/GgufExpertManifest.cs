using System.Globalization;
using MoeMesh.Experts;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>
/// The expert manifest of a downloaded GGUF model, read from its metadata: parameter count from the
/// tensors, quantisation from <c>general.file_type</c>, context from <c>{arch}.context_length</c>,
/// skills from the model's names and tags.
/// </summary>
public static class GgufExpertManifest
{
    /// <summary>The context window a manifest gets unless asked otherwise: a KV cache that fits small boxes.</summary>
    public const int DefaultContextSize = 4096;

    /// <summary>llama.cpp's <c>llama_ftype</c> values, as quantisation names.</summary>
    private static readonly Dictionary<long, string> FileTypes = new()
    {
        [0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1",
        [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M",
        [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K", [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S",
        [22] = "IQ3_XS", [23] = "IQ3_XXS", [24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M",
        [28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16", [36] = "TQ1_0", [37] = "TQ2_0",
    };

    /// <summary>Skills by words in a model's names and tags; a model matching none is a general assistant.</summary>
    private static readonly (string[] Words, string[] Skills)[] SkillWords =
    [
        (["math", "mathstral", "numina", "gsm8k"], ["math", "arithmetic", "algebra", "numbers"]),
        (["coder", "code", "codellama", "starcoder", "codegemma", "programming"], ["code", "programming", "software"]),
        (["med", "medical", "bio", "biomed"], ["medicine", "biology", "science"]),
        (["law", "legal"], ["law"]),
    ];

    private static readonly string[] GeneralSkills = ["general", "writing", "facts"];

    /// <summary>Builds and validates the manifest of <paramref name="gguf"/>, stored as <paramref name="modelFile"/>.</summary>
    public static ExpertManifest Build(GgufFile gguf, string modelFile, string? repository, ManifestChoices? choices = null)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        choices ??= new ManifestChoices();
        var fileName = Path.GetFileName(modelFile);
        var quantization = QuantizationOf(gguf, fileName);
        var modelContext = gguf.Architecture is { } arch ? gguf.TryGetInteger(arch + ".context_length") : null;
        var context = choices.ContextSize ?? (int)Math.Clamp(modelContext ?? DefaultContextSize, 8, DefaultContextSize);
        var manifest = new ExpertManifest
        {
            Id = choices.Id ?? ExpertIdFor(fileName),
            DisplayName = $"{gguf.Name ?? Path.GetFileNameWithoutExtension(fileName)} ({quantization})",
            Engine = ExpertEngines.LlamaCpp,
            ModelPath = fileName,
            ContextSize = context,
            Skills = choices.Skills is { Count: > 0 } skills ? skills : SkillsOf(gguf, repository, fileName),
            Quantization = quantization,
            ParameterCount = gguf.ParameterCount,
            ModelSizeBytes = gguf.FileSize,
        };
        var problems = ExpertManifestValidator.Validate(manifest);
        return problems.Count == 0
            ? manifest
            : throw new ArgumentException($"The manifest for {fileName} would be invalid: {string.Join("; ", problems)}.");
    }

    /// <summary>An expert id from a file name: lower case, other characters as '-', at most 64 characters.</summary>
    public static string ExpertIdFor(string fileName)
    {
        var stem = Path.GetFileNameWithoutExtension(fileName).ToLowerInvariant();
        var id = new string([.. stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]).Trim('-', '_', '.');
        id = id.Length == 0 ? "model" : id;
        return id.Length <= 64 ? id : id[..64].TrimEnd('-', '_', '.');
    }

    /// <summary>
    /// The quantisation MoeMesh knows that describes the file: its <c>general.file_type</c> when known,
    /// otherwise the known name nearest to its measured bits per weight.
    /// </summary>
    public static string QuantizationOf(GgufFile gguf, string fileName)
    {
        if (gguf.TryGetInteger("general.file_type") is { } type && FileTypes.TryGetValue(type, out var name) && Quantization.TryGetBitsPerWeight(name, out _))
        {
            return name;
        }

        if (Quantization.Known.FirstOrDefault(q => fileName.Contains(q, StringComparison.OrdinalIgnoreCase) && q.Length > 3) is { } named)
        {
            return named;
        }

        var bits = gguf.ParameterCount > 0 ? gguf.TensorBytes * 8.0 / gguf.ParameterCount : 16;
        return Quantization.Known
            .Where(q => !q.StartsWith("INT", StringComparison.Ordinal))
            .OrderBy(q => Math.Abs(Quantization.BitsPerWeight(q) - bits))
            .First();
    }

    /// <summary>Skills from the words of <c>general.name</c>, <c>basename</c>, <c>finetune</c>, <c>tags</c>, the repository and the file.</summary>
    public static IReadOnlyList<string> SkillsOf(GgufFile gguf, string? repository, string fileName)
    {
        var text = string.Join(' ', new[]
        {
            gguf.Name, gguf.TryGetString("general.basename"), gguf.TryGetString("general.finetune"), repository, fileName,
        }.Concat(Tags(gguf))).ToLowerInvariant();
        var words = text.Split([' ', '-', '_', '.', '/', ','], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var skills = SkillWords.Where(s => s.Words.Any(words.Contains)).SelectMany(s => s.Skills).Distinct().ToList();
        return skills.Count > 0 ? skills : GeneralSkills;
    }

    private static IEnumerable<string?> Tags(GgufFile gguf)
        => gguf["general.tags"] is { IsArray: true, RawValue: string[] tags } ? tags : [];

    /// <summary>The manifest as one line for the terminal.</summary>
    public static string Describe(ExpertManifest manifest)
        => string.Create(CultureInfo.InvariantCulture,
            $"expert '{manifest.Id}': {manifest.ParameterCount / 1e9:0.00}B parameters, {manifest.Quantization}, context {manifest.ContextSize}, skills {string.Join(", ", manifest.Skills)}");
}

/// <summary>What the user chose for a pulled model's manifest instead of what its metadata suggests.</summary>
public sealed record ManifestChoices
{
    public string? Id { get; init; }

    public IReadOnlyList<string>? Skills { get; init; }

    public int? ContextSize { get; init; }
}
