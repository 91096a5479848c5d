using System.Text.Json;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>Writes manifests (and empty model files) into a temporary folder.</summary>
public sealed class ManifestFiles : IDisposable
{
    public ManifestFiles()
    {
        Folder = Directory.CreateTempSubdirectory("moemesh-manifests-").FullName;
    }

    public string Folder { get; }

    /// <summary>A 1B-parameter llama.cpp expert with <paramref name="skills"/>, for the scripted engine.</summary>
    public static ExpertManifest Scripted(string id, string[] skills) => new()
    {
        Id = id,
        Engine = ExpertEngines.LlamaCpp,
        ModelPath = id + ".gguf",
        ParameterCount = 1_000_000_000,
        Quantization = "Q4_K_M",
        Skills = skills,
        ContextSize = 4096,
    };

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
