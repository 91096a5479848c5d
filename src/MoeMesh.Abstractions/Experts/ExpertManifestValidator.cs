using System.Text.RegularExpressions;

namespace MoeMesh.Experts;

/// <summary>Checks a manifest's fields without touching the file system.</summary>
public static partial class ExpertManifestValidator
{
    /// <summary>The largest context window accepted, in tokens.</summary>
    public const int MaxContextSize = 1 << 20;

    /// <summary>The largest parameter count accepted (10 trillion).</summary>
    public const long MaxParameterCount = 10_000_000_000_000;

    /// <summary>The most replicas one expert may ask for.</summary>
    public const int MaxReplicas = 64;

    /// <summary>Problems with <paramref name="manifest"/>, each a sentence naming the field; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(ExpertManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(manifest.Id))
        {
            problems.Add("'id' is missing");
        }
        else if (!IdPattern().IsMatch(manifest.Id))
        {
            problems.Add($"'id' \"{manifest.Id}\" may contain only lower-case letters, digits, '-', '_' and '.', and must start with a letter or digit (at most 64 characters)");
        }

        if (string.IsNullOrWhiteSpace(manifest.Engine))
        {
            problems.Add($"'engine' is missing; use one of: {string.Join(", ", ExpertEngines.All)}");
        }
        else if (!ExpertEngines.All.Contains(manifest.Engine))
        {
            problems.Add($"'engine' \"{manifest.Engine}\" is unknown; use one of: {string.Join(", ", ExpertEngines.All)}");
        }
        else if (manifest.Engine is ExpertEngines.LlamaCpp or ExpertEngines.Onnx or ExpertEngines.Moe && string.IsNullOrWhiteSpace(manifest.ModelPath))
        {
            problems.Add($"'modelPath' is required for the {manifest.Engine} engine");
        }

        if (manifest.ContextSize <= 0 || manifest.ContextSize > MaxContextSize)
        {
            problems.Add($"'contextSize' must be between 1 and {MaxContextSize} tokens, got {manifest.ContextSize}");
        }

        if (manifest.ParameterCount < 0 || manifest.ParameterCount > MaxParameterCount)
        {
            problems.Add($"'parameterCount' must be between 0 and {MaxParameterCount}, got {manifest.ParameterCount}");
        }

        if (manifest.ActiveParameterCount is { } active && (active < 0 || active > manifest.ParameterCount))
        {
            problems.Add($"'activeParameterCount' ({active}) must be between 0 and 'parameterCount' ({manifest.ParameterCount})");
        }

        if (!Quantization.TryGetBitsPerWeight(manifest.Quantization, out _))
        {
            problems.Add($"'quantization' \"{manifest.Quantization}\" is unknown; use one of: {string.Join(", ", Quantization.Known)}");
        }

        if (manifest.Replicas < 1 || manifest.Replicas > MaxReplicas)
        {
            problems.Add($"'replicas' must be between 1 and {MaxReplicas}, got {manifest.Replicas}");
        }

        if (manifest.ModelSizeBytes is < 0)
        {
            problems.Add($"'modelSizeBytes' must not be negative, got {manifest.ModelSizeBytes}");
        }

        if (manifest.Placement.MinFreeMemoryBytes < 0)
        {
            problems.Add($"'placement.minFreeMemoryBytes' must not be negative, got {manifest.Placement.MinFreeMemoryBytes}");
        }

        foreach (var kind in manifest.Placement.DeviceKinds)
        {
            if (!Enum.IsDefined(kind))
            {
                problems.Add($"'placement.deviceKinds' contains unknown kind {kind}");
            }
        }

        foreach (var skill in manifest.Skills)
        {
            if (string.IsNullOrWhiteSpace(skill))
            {
                problems.Add("'skills' contains an empty entry");
                break;
            }
        }

        return problems;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();
}
