using System.Text.Json;
using MoeMesh.Experts;
using MoeMesh.Serialization;

namespace MoeMesh.Inference.Experts;

/// <summary>
/// Reads and writes expert manifests as JSON files (the MoeMesh JSON conventions). A relative
/// <c>modelPath</c> is relative to the manifest's folder; <see cref="Read"/> makes it absolute.
/// </summary>
public static class ExpertManifestFile
{
    /// <summary>The JSON shape of a manifest file: the MoeMesh conventions.</summary>
    public static JsonSerializerOptions JsonOptions => MoeMeshJson.Options;

    /// <summary>
    /// Reads the manifest at <paramref name="path"/>, resolves its model path and validates it;
    /// throws <see cref="InvalidDataException"/> listing every problem.
    /// </summary>
    public static ExpertManifest Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        ExpertManifest? manifest;
        try
        {
            using var stream = File.OpenRead(full);
            manifest = JsonSerializer.Deserialize<ExpertManifest>(stream, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{full} is not a valid expert manifest: {e.Message}", e);
        }

        if (manifest is null)
        {
            throw new InvalidDataException($"{full} holds no expert manifest.");
        }

        if (!string.IsNullOrWhiteSpace(manifest.ModelPath) && !Path.IsPathRooted(manifest.ModelPath))
        {
            manifest = manifest with { ModelPath = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(full)!, manifest.ModelPath)) };
        }

        var problems = ExpertManifestValidator.Validate(manifest);
        return problems.Count == 0
            ? manifest
            : throw new InvalidDataException($"{full} is not a valid expert manifest: {string.Join("; ", problems)}.");
    }

    /// <summary>Writes <paramref name="manifest"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, ExpertManifest manifest)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(manifest);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, JsonSerializer.Serialize(manifest, JsonOptions) + Environment.NewLine);
    }
}
