using MoeMesh.Experts;
using MoeMesh.Inference.Experts;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Experts;

public sealed class ExpertManifestFileTests
{
    [Fact]
    public void A_manifest_round_trips_and_its_relative_model_path_is_resolved_against_its_folder()
    {
        using var directory = new TemporaryDirectory();
        var manifest = new ExpertManifest
        {
            Id = "math-7b",
            Engine = ExpertEngines.LlamaCpp,
            ModelPath = "models/math.gguf",
            ContextSize = 4096,
            Skills = ["math", "algebra"],
            Quantization = "Q4_K_M",
            ParameterCount = 7_000_000_000,
            EngineOptions = new Dictionary<string, string> { ["gpu_layers"] = "20" },
        };
        var path = directory.File("experts/math.json");
        ExpertManifestFile.Write(path, manifest);

        var json = File.ReadAllText(path);
        Assert.Contains("\"modelPath\": \"models/math.gguf\"", json);
        Assert.DoesNotContain("weightBytes", json);
        Assert.DoesNotContain("title", json);

        var read = ExpertManifestFile.Read(path);
        Assert.Equal(Path.Combine(directory.Path, "experts", "models", "math.gguf"), read.ModelPath);
        Assert.Equal(("math-7b", ExpertEngines.LlamaCpp, 4096, "Q4_K_M", 7_000_000_000L), (read.Id, read.Engine, read.ContextSize, read.Quantization, read.ParameterCount));
        Assert.Equal(["math", "algebra"], read.Skills);
        Assert.Equal("20", read.EngineOptions["gpu_layers"]);
    }

    [Fact]
    public void Invalid_manifests_are_reported_with_every_problem()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("bad.json");
        File.WriteAllText(path, """{ "id": "Bad Id", "engine": "llama.cpp", "contextSize": 0 }""");
        var error = Assert.Throws<InvalidDataException>(() => ExpertManifestFile.Read(path));
        Assert.Contains("'id'", error.Message);
        Assert.Contains("'modelPath'", error.Message);
        Assert.Contains("'contextSize'", error.Message);

        File.WriteAllText(path, "{ not json");
        Assert.Throws<InvalidDataException>(() => ExpertManifestFile.Read(path));
    }
}
