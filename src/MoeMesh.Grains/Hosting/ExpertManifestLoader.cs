using System.Text.Json;
using MoeMesh.Experts;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Hosting;

/// <summary>
/// Reads expert manifests from files and folders, resolves model paths against each manifest's
/// folder, and rejects bad ones with every problem listed.
/// </summary>
public static class ExpertManifestLoader
{
    /// <summary>Files larger than this are not manifests.</summary>
    private const long MaxManifestBytes = 1024 * 1024;

    /// <summary>
    /// Loads every manifest under <paramref name="paths"/> (files, or folders of <c>*.json</c>);
    /// throws <see cref="MoeMeshConfigurationException"/> listing all problems when any is bad.
    /// </summary>
    public static IReadOnlyList<ExpertManifest> Load(IEnumerable<string> paths, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var problems = new List<string>();
        var manifests = new List<ExpertManifest>();
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in ExpandFiles(paths, baseDirectory ?? Directory.GetCurrentDirectory(), problems))
        {
            var manifest = LoadFile(file, problems);
            if (manifest is null)
            {
                continue;
            }

            if (sources.TryGetValue(manifest.Id, out var first))
            {
                problems.Add($"{file}: duplicate expert id '{manifest.Id}' (also declared in {first})");
                continue;
            }

            sources[manifest.Id] = file;
            manifests.Add(manifest);
        }

        MoeMeshConfigurationException.ThrowIfAny(problems, "Expert manifests are invalid");
        return manifests;
    }

    /// <summary>Loads one manifest file; throws <see cref="MoeMeshConfigurationException"/> when it is bad.</summary>
    public static ExpertManifest LoadFile(string file)
    {
        var problems = new List<string>();
        var manifest = LoadFile(Path.GetFullPath(file), problems);
        MoeMeshConfigurationException.ThrowIfAny(problems, "Expert manifest is invalid");
        return manifest!;
    }

    private static IEnumerable<string> ExpandFiles(IEnumerable<string> paths, string baseDirectory, List<string> problems)
    {
        foreach (var raw in paths)
        {
            if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }

            var path = Path.GetFullPath(raw, baseDirectory);
            if (Directory.Exists(path))
            {
                var files = Directory.EnumerateFiles(path, "*.json").Order(StringComparer.Ordinal).ToList();
                if (files.Count == 0)
                {
                    problems.Add($"{path}: folder holds no manifest (*.json) files");
                }

                foreach (var f in files)
                {
                    yield return f;
                }
            }
            else if (File.Exists(path))
            {
                yield return path;
            }
            else
            {
                problems.Add($"{path}: manifest file or folder does not exist");
            }
        }
    }

    private static ExpertManifest? LoadFile(string file, List<string> problems)
    {
        ExpertManifest? manifest;
        try
        {
            var info = new FileInfo(file);
            if (info.Length > MaxManifestBytes)
            {
                problems.Add($"{file}: {info.Length} bytes is too large for a manifest (limit {MaxManifestBytes})");
                return null;
            }

            using var stream = info.OpenRead();
            manifest = JsonSerializer.Deserialize<ExpertManifest>(stream, MoeMeshJson.Options);
        }
        catch (JsonException ex)
        {
            problems.Add($"{file}: not a valid manifest (line {(ex.LineNumber ?? 0) + 1}{(string.IsNullOrEmpty(ex.Path) ? "" : ", at " + ex.Path)}): {ex.Message}");
            return null;
        }
        catch (IOException ex)
        {
            problems.Add($"{file}: cannot be read: {ex.Message}");
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            problems.Add($"{file}: cannot be read: {ex.Message}");
            return null;
        }

        if (manifest is null)
        {
            problems.Add($"{file}: empty manifest");
            return null;
        }

        var fieldProblems = ExpertManifestValidator.Validate(manifest);
        problems.AddRange(fieldProblems.Select(p => $"{file}: {p}"));
        if (fieldProblems.Count > 0)
        {
            return null;
        }

        if (manifest.ModelPath is { Length: > 0 } modelPath)
        {
            var folder = Path.GetDirectoryName(file) ?? Directory.GetCurrentDirectory();
            var full = Path.GetFullPath(modelPath, folder);
            if (!File.Exists(full))
            {
                problems.Add($"{file}: model file '{full}' for expert '{manifest.Id}' does not exist");
                return null;
            }

            manifest = manifest with
            {
                ModelPath = full,
                // A GGUF/ONNX file's size is its weights' size; other engines' files (recordings) are not weights.
                ModelSizeBytes = manifest.ModelSizeBytes
                    ?? (manifest.Engine is ExpertEngines.LlamaCpp or ExpertEngines.Onnx or ExpertEngines.Moe ? new FileInfo(full).Length : null),
            };
        }

        return manifest;
    }
}
