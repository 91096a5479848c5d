using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Tests.Models.Hub;

public sealed class ModelCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moemesh-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Lists_models_with_their_manifests_and_partial_downloads_and_removes_by_name_repository_or_expert_id()
    {
        var cache = new ModelCache(_folder);
        var a = Store(cache, "org/one", "One-Q4_K_M.gguf");
        Store(cache, "org/one", "One-Q8_0.gguf");
        var b = Store(cache, "org/two", "Two-Q4_K_M.gguf");
        var partial = cache.PathFor(HubRepository.Parse("org/three"), "Three.gguf") + ".part";
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, [1, 2, 3]);

        var listed = cache.List();

        Assert.Equal(["org/one/One-Q4_K_M.gguf", "org/one/One-Q8_0.gguf", "org/three/Three.gguf", "org/two/Two-Q4_K_M.gguf"], listed.Select(m => m.Name));
        Assert.True(listed.Single(m => m.Name == "org/three/Three.gguf").Partial);
        Assert.Equal("one-q4_k_m", listed[0].Manifest?.Id);

        Assert.Equal(["org/two/Two-Q4_K_M.gguf"], cache.Remove("two-q4_k_m").Select(m => m.Name));
        Assert.False(File.Exists(b));
        Assert.False(Directory.Exists(Path.Combine(_folder, "org", "two")));
        Assert.Equal(2, cache.Remove("org/one").Count);
        Assert.False(File.Exists(a));
        Assert.False(File.Exists(ModelCache.ManifestPathFor(a)));
        Assert.Single(cache.Remove("org/three/Three.gguf"));
        Assert.Empty(cache.List());
        Assert.Empty(cache.Remove("nothing"));
    }

    private static string Store(ModelCache cache, string repo, string file)
    {
        var path = cache.PathFor(HubRepository.Parse(repo), file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, HubTestModels.TinyGguf);
        var manifest = GgufExpertManifest.Build(MoeMesh.Inference.Gguf.GgufReader.Read(path), path, repo);
        MoeMesh.Inference.Experts.ExpertManifestFile.Write(ModelCache.ManifestPathFor(path), manifest);
        return path;
    }
}
