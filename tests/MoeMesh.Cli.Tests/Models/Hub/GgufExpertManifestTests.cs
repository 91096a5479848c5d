using MoeMesh.Cli.Models.Hub;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Cli.Tests.Models.Hub;

public sealed class GgufExpertManifestTests
{
    [Theory]
    [InlineData(15u, "Q4_K_M")]
    [InlineData(7u, "Q8_0")]
    [InlineData(1u, "F16")]
    public void Quantisation_comes_from_the_file_type(uint fileType, string expected)
        => Assert.Equal(expected, GgufExpertManifest.QuantizationOf(Gguf(("general.file_type", GgufValue.FromUInt32(fileType))), "model.gguf"));

    [Fact]
    public void A_file_type_moemesh_does_not_know_falls_back_to_the_file_name()
        => Assert.Equal("Q4_K_M", GgufExpertManifest.QuantizationOf(Gguf(("general.file_type", GgufValue.FromUInt32(13u))), "Model-Q4_K_M.gguf"));

    [Theory]
    [InlineData("Qwen2.5 Math 1.5B Instruct", "math")]
    [InlineData("Qwen2.5 Coder 0.5B Instruct", "code")]
    [InlineData("Qwen2.5 0.5B Instruct", "general")]
    public void Skills_come_from_the_models_names(string name, string skill)
        => Assert.Contains(skill, GgufExpertManifest.SkillsOf(Gguf(("general.name", GgufValue.FromString(name))), "org/repo", "model.gguf"));

    [Fact]
    public void Expert_ids_are_made_valid_from_file_names()
    {
        Assert.Equal("qwen2.5-math-1.5b-instruct-q4_k_m", GgufExpertManifest.ExpertIdFor("Qwen2.5-Math-1.5B-Instruct-Q4_K_M.gguf"));
        Assert.Equal("a-b", GgufExpertManifest.ExpertIdFor("A b.gguf"));
        Assert.Equal(64, GgufExpertManifest.ExpertIdFor(new string('x', 100) + ".gguf").Length);
    }

    [Fact]
    public void The_manifest_of_a_synthesized_model_is_valid_and_caps_the_context()
    {
        var folder = Directory.CreateTempSubdirectory("moemesh-manifest-").FullName;
        try
        {
            var path = Path.Combine(folder, "Tiny-F32.gguf");
            File.WriteAllBytes(path, HubTestModels.TinyGguf);

            var manifest = GgufExpertManifest.Build(GgufReader.Read(path), path, "org/tiny", new ManifestChoices { Skills = ["math"] });

            Assert.Equal("tiny-f32", manifest.Id);
            Assert.Equal("Tiny-F32.gguf", manifest.ModelPath);
            Assert.Equal(["math"], manifest.Skills);
            Assert.Equal(2048, manifest.ContextSize);
            Assert.Equal(new FileInfo(path).Length, manifest.ModelSizeBytes);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static GgufFile Gguf(params (string Key, GgufValue Value)[] metadata)
        => new(3, [.. metadata.Select(m => new KeyValuePair<string, GgufValue>(m.Key, m.Value))], [], GgufFile.DefaultAlignment, 0, 0);
}
