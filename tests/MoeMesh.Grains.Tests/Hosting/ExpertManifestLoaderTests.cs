using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Tests.TestDoubles;

namespace MoeMesh.Grains.Tests.Hosting;

public sealed class ExpertManifestLoaderTests : IDisposable
{
    private readonly ManifestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Loads_a_folder_and_resolves_model_paths_against_the_manifest()
    {
        _files.Write(Valid("alpha"));
        _files.Write(Valid("beta"));

        var manifests = ExpertManifestLoader.Load([_files.Folder]);

        Assert.Equal(["alpha", "beta"], manifests.Select(m => m.Id));
        Assert.All(manifests, m => Assert.True(Path.IsPathRooted(m.ModelPath)));
        Assert.All(manifests, m => Assert.Equal(3, m.ModelSizeBytes));
    }

    [Fact]
    public void Missing_model_file_is_named()
    {
        var path = _files.WriteRaw("gamma.json", """{ "id": "gamma", "engine": "llama.cpp", "modelPath": "nowhere.gguf", "parameterCount": 1000 }""");

        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([path]));

        Assert.Contains("nowhere.gguf", error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void Unknown_engine_lists_the_known_ones()
    {
        var path = _files.WriteRaw("delta.json", """{ "id": "delta", "engine": "tensorflow", "parameterCount": 1000 }""");

        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([path]));

        Assert.Contains("'engine' \"tensorflow\" is unknown", error.Message);
        Assert.Contains("llama.cpp", error.Message);
    }

    [Fact]
    public void Negative_and_absurd_numbers_are_each_reported()
    {
        var path = _files.WriteRaw("eps.json", """
            { "id": "eps", "engine": "replay", "parameterCount": -5, "contextSize": 999999999, "replicas": 0,
              "quantization": "Q9_Z", "placement": { "minFreeMemoryBytes": -1 } }
            """);

        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([path]));

        Assert.Contains("'parameterCount' must be between 0", error.Message);
        Assert.Contains("'contextSize' must be between 1", error.Message);
        Assert.Contains("'replicas' must be between 1", error.Message);
        Assert.Contains("'quantization' \"Q9_Z\" is unknown", error.Message);
        Assert.Contains("'placement.minFreeMemoryBytes' must not be negative", error.Message);
    }

    [Fact]
    public void Duplicate_ids_name_both_files()
    {
        _files.Write(Valid("zeta"), "one.json");
        _files.Write(Valid("zeta"), "two.json");

        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([_files.Folder]));

        Assert.Contains("duplicate expert id 'zeta'", error.Message);
        Assert.Contains("one.json", error.Message);
        Assert.Contains("two.json", error.Message);
    }

    [Fact]
    public void Malformed_json_reports_the_line()
    {
        var path = _files.WriteRaw("bad.json", "{\n  \"id\": \"bad\",\n  \"engine\": \n}");

        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([path]));

        Assert.Contains("bad.json: not a valid manifest (line", error.Message);
    }

    [Fact]
    public void Missing_required_field_and_bad_id_are_reported()
    {
        var missing = _files.WriteRaw("noengine.json", """{ "id": "noengine" }""");
        var badId = _files.WriteRaw("badid.json", """{ "id": "Bad Id!", "engine": "replay" }""");

        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([missing, badId]));

        Assert.Contains("noengine.json", error.Message);
        Assert.Contains("\"Bad Id!\" may contain only", error.Message);
    }

    [Fact]
    public void Nonexistent_path_is_reported()
    {
        var error = Assert.Throws<MoeMeshConfigurationException>(() => ExpertManifestLoader.Load([Path.Combine(_files.Folder, "nope")]));

        Assert.Contains("manifest file or folder does not exist", error.Message);
    }

    private static ExpertManifest Valid(string id) => new()
    {
        Id = id,
        Engine = ExpertEngines.LlamaCpp,
        ModelPath = id + ".gguf",
        ParameterCount = 1_000_000,
        Quantization = "F16",
    };
}
