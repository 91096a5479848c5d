using MoeMesh.Inference.Experts;
using MoeMesh.Inference.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Synthesis;

[Collection(TinyModelsCollection.Name)]
public sealed class SynthesizedExpertTests(TinyModels models)
{
    [Fact]
    public async Task A_synthesized_expert_loads_from_its_manifest_and_answers()
    {
        using var directory = new TemporaryDirectory();
        var expert = SynthesizedExpert.Write(directory.Path, new TinyLlamaOptions { Name = "demo-expert" }, contextSize: 256, skills: ["demo"]);

        Assert.Equal(directory.File("demo-expert.json"), expert.ManifestPath);
        Assert.Equal("demo-expert.gguf", expert.Manifest.ModelPath);
        var manifest = ExpertManifestFile.Read(expert.ManifestPath);
        Assert.Equal(expert.Model.Path, manifest.ModelPath);
        Assert.Equal(256, manifest.ContextSize);
        Assert.Equal(["demo"], manifest.Skills);
        Assert.Equal(expert.Model.FileBytes, manifest.ModelSizeBytes);

        await using var engine = await models.Provider.LoadAsync(manifest);
        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("hello", 5));
        Assert.Equal(5, result.Metrics.GeneratedTokens);
    }

    [Fact]
    public void An_invalid_name_writes_nothing()
    {
        using var directory = new TemporaryDirectory();
        Assert.Throws<ArgumentException>(() => SynthesizedExpert.Write(directory.Path, new TinyLlamaOptions { Name = "Not Valid" }));
        Assert.Empty(Directory.GetFiles(directory.Path));
    }

    [Fact]
    public void Vocabularies_are_found_by_path_and_a_missing_one_says_what_is_expected()
    {
        using var directory = new TemporaryDirectory();
        var file = SynthesizedExpert.Write(directory.Path, new TinyLlamaOptions { Name = "vocab-source" }).Model.Path;
        Assert.Equal(Path.GetFullPath(file), VocabularyLocator.Resolve(file));
        var error = Assert.Throws<FileNotFoundException>(() => VocabularyLocator.Resolve("no-such-tokenizer.gguf"));
        Assert.Contains("no-such-tokenizer.gguf", error.Message);
        Assert.Contains("byte-fallback", error.Message);
    }
}
