namespace MoeMesh.Embeddings.Tests;

public sealed class EmbeddingCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"moemesh-emb-{Guid.NewGuid():N}");

    public EmbeddingCacheTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void Embeddings_are_computed_once_and_then_read_from_the_cache()
    {
        var data = DataFile("first version");
        (int, string)[] texts = [(1, "alpha"), (2, "beta gamma"), (5, "delta")];
        var embedder = new CountingEmbedder();
        var progress = new List<EmbeddingProgress>();

        var first = EmbeddingCache.LoadOrCompute(data, texts, embedder, _folder, new SyncProgress(progress.Add));
        Assert.Equal(3, embedder.Calls);
        Assert.Equal(new EmbeddingProgress(3, 3), progress[^1]);

        var second = EmbeddingCache.LoadOrCompute(data, texts, embedder, _folder);
        Assert.Equal(3, embedder.Calls);
        Assert.Equal(first[2], second[2]);

        // Only a question the cache lacks is embedded.
        EmbeddingCache.LoadOrCompute(data, [.. texts, (9, "epsilon")], embedder, _folder);
        Assert.Equal(4, embedder.Calls);
    }

    [Fact]
    public void A_changed_data_file_gets_its_own_cache_and_a_damaged_cache_is_recomputed()
    {
        var data = DataFile("one");
        var embedder = new CountingEmbedder();
        var pathBefore = EmbeddingCache.PathFor(_folder, data, embedder.ModelId);
        EmbeddingCache.LoadOrCompute(data, [(1, "alpha")], embedder, _folder);
        File.WriteAllText(data, "two");
        Assert.NotEqual(pathBefore, EmbeddingCache.PathFor(_folder, data, embedder.ModelId));
        EmbeddingCache.LoadOrCompute(data, [(1, "alpha")], embedder, _folder);
        Assert.Equal(2, embedder.Calls);

        File.WriteAllBytes(EmbeddingCache.PathFor(_folder, data, embedder.ModelId), [1, 2, 3]);
        var warnings = new List<string>();
        var vectors = EmbeddingCache.LoadOrCompute(data, [(1, "alpha")], embedder, _folder, warn: warnings.Add);
        Assert.Equal(3, embedder.Calls);
        Assert.Single(vectors);
        Assert.Contains("computing the embeddings again", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_round_trips_and_names_what_is_wrong_with_a_bad_file()
    {
        var path = Path.Combine(_folder, "v.emb");
        var vectors = new Dictionary<int, float[]> { [3] = [0.5f, -1f], [1] = [2f, 0f] };
        EmbeddingStore.Write(path, "m", 2, vectors);
        var (model, dimension, read) = EmbeddingStore.Read(path);
        Assert.Equal(("m", 2), (model, dimension));
        Assert.Equal(vectors[3], read[3]);
        Assert.Equal(vectors[1], read[1]);

        Assert.Throws<ArgumentException>(() => EmbeddingStore.Write(path, "m", 3, vectors));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        Assert.Contains("damaged", Assert.Throws<InvalidDataException>(() => EmbeddingStore.Read(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(path, "hello, not embeddings");
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => EmbeddingStore.Read(path)).Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string DataFile(string content)
    {
        var path = Path.Combine(_folder, "data.jsonl.gz");
        File.WriteAllText(path, content);
        return path;
    }

    private sealed class SyncProgress(Action<EmbeddingProgress> report) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => report(value);
    }
}
