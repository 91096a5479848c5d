using System.Text.Json;
using MoeMesh.Experts;
using MoeMesh.Inference.Experts;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>Where a pulled model came from, kept beside it as <c>&lt;file&gt;.origin</c> (JSON).</summary>
public sealed record ModelOrigin
{
    public required string Repository { get; init; }

    public required string File { get; init; }

    public required string Revision { get; init; }

    public string? Commit { get; init; }

    /// <summary>The stored file's SHA-256.</summary>
    public required string Sha256 { get; init; }

    /// <summary>True when the hub published a SHA-256 and the file matched it.</summary>
    public bool Verified { get; init; }

    public long Bytes { get; init; }

    public DateTimeOffset PulledAt { get; init; }
}

/// <summary>A model in the cache: its file, manifest and origin (either may be missing for a hand-placed file).</summary>
public sealed record CachedModel(string Name, string Path, long Bytes, string? ManifestPath, ExpertManifest? Manifest, ModelOrigin? Origin, bool Partial);

/// <summary>
/// The model cache: <c>&lt;dir&gt;/&lt;org&gt;/&lt;name&gt;/&lt;file&gt;.gguf</c>, the expert manifest beside it as
/// <c>&lt;stem&gt;.json</c> (so a repository's folder is a manifest folder a silo can be pointed at) and
/// <c>&lt;file&gt;.origin</c>. Unfinished downloads are <c>&lt;file&gt;.part</c>.
/// </summary>
public sealed class ModelCache(string directory)
{
    public string Directory { get; } = System.IO.Path.GetFullPath(directory);

    /// <summary>Where <paramref name="file"/> of <paramref name="repository"/> is stored.</summary>
    public string PathFor(HubRepository repository, string file)
        => System.IO.Path.Combine(Directory, repository.Organization, repository.Name, System.IO.Path.Combine(file.Split('/')));

    public static string ManifestPathFor(string modelPath)
        => System.IO.Path.ChangeExtension(modelPath, ".json");

    public static string OriginPathFor(string modelPath) => modelPath + ".origin";

    public static ModelOrigin? ReadOrigin(string modelPath)
    {
        try
        {
            var path = OriginPathFor(modelPath);
            return File.Exists(path) ? JsonSerializer.Deserialize<ModelOrigin>(File.ReadAllText(path), MoeMeshJson.Options) : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void WriteOrigin(string modelPath, ModelOrigin origin)
        => File.WriteAllText(OriginPathFor(modelPath), JsonSerializer.Serialize(origin, MoeMeshJson.Options) + Environment.NewLine);

    /// <summary>Every model in the cache, finished or partial, by name (<c>org/name/file.gguf</c>).</summary>
    public IReadOnlyList<CachedModel> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var models = System.IO.Directory.EnumerateFiles(Directory, "*.gguf", SearchOption.AllDirectories).Select(Describe);
        var partial = System.IO.Directory.EnumerateFiles(Directory, "*.gguf.part", SearchOption.AllDirectories)
            .Select(p => new CachedModel(NameOf(p[..^".part".Length]), p, new FileInfo(p).Length, null, null, null, Partial: true));
        return [.. models.Concat(partial).OrderBy(m => m.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Removes the models <paramref name="name"/> names: an expert id, <c>org/name</c> (every file of that
    /// repository) or <c>org/name/file.gguf</c>, with their manifests, origins and partial downloads.
    /// </summary>
    public IReadOnlyList<CachedModel> Remove(string name)
    {
        var trimmed = name.Trim().Trim('/');
        var doomed = List().Where(m => m.Name.Equals(trimmed, StringComparison.OrdinalIgnoreCase)
            || m.Name.StartsWith(trimmed + "/", StringComparison.OrdinalIgnoreCase)
            || string.Equals(m.Manifest?.Id, trimmed, StringComparison.Ordinal)).ToList();
        foreach (var model in doomed)
        {
            var modelPath = model.Partial ? model.Path[..^".part".Length] : model.Path;
            foreach (var file in new[] { modelPath, ResumableDownload.PartPath(modelPath), ResumableDownload.PartIdentityPath(modelPath), OriginPathFor(modelPath) })
            {
                File.Delete(file);
            }

            var manifest = ManifestPathFor(modelPath);
            if (File.Exists(manifest) && !model.Partial)
            {
                File.Delete(manifest);
            }

            RemoveEmptyFolders(System.IO.Path.GetDirectoryName(modelPath)!);
        }

        return doomed;
    }

    private CachedModel Describe(string path)
    {
        var manifestPath = ManifestPathFor(path);
        ExpertManifest? manifest = null;
        try
        {
            manifest = File.Exists(manifestPath) ? ExpertManifestFile.Read(manifestPath) : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            // A broken manifest is shown as missing; `models pull` writes it again.
        }

        return new CachedModel(NameOf(path), path, new FileInfo(path).Length, manifest is null ? null : manifestPath, manifest, ReadOrigin(path), Partial: false);
    }

    private string NameOf(string path) => System.IO.Path.GetRelativePath(Directory, path).Replace('\\', '/');

    private void RemoveEmptyFolders(string folder)
    {
        var root = Directory.TrimEnd(System.IO.Path.DirectorySeparatorChar);
        while (folder.Length > root.Length && folder.StartsWith(root, StringComparison.Ordinal)
            && System.IO.Directory.Exists(folder) && !System.IO.Directory.EnumerateFileSystemEntries(folder).Any())
        {
            System.IO.Directory.Delete(folder);
            folder = System.IO.Path.GetDirectoryName(folder)!;
        }
    }
}
