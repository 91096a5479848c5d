using System.Text.Json;
using MoeMesh.Experts;
using MoeMesh.Serialization;

namespace MoeMesh.Dashboard.Tests.TestDoubles;

/// <summary>Writes manifests (and empty model files) into a temporary folder.</summary>
public sealed class ManifestFiles : IDisposable
{
    public ManifestFiles()
    {
        Folder = Directory.CreateTempSubdirectory("moemesh-manifests-").FullName;
    }

    public string Folder { get; }

    public string Write(ExpertManifest manifest, string? fileName = null)
    {
        if (manifest.ModelPath is { } model && !Path.IsPathRooted(model))
        {
            File.WriteAllBytes(Path.Combine(Folder, model), [1, 2, 3]);
        }

        var path = Path.Combine(Folder, fileName ?? manifest.Id + ".json");
        File.WriteAllText(path, JsonSerializer.Serialize(manifest, MoeMeshJson.Options));
        return path;
    }

    public string WriteRaw(string fileName, string json)
    {
        var path = Path.Combine(Folder, fileName);
        File.WriteAllText(path, json);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
