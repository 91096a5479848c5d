using System.Security.Cryptography;

namespace MoeMesh.Embeddings;

/// <summary>Progress of embedding a batch of texts.</summary>
/// <param name="Done">Texts embedded so far.</param>
/// <param name="Total">Texts to embed.</param>
public readonly record struct EmbeddingProgress(int Done, int Total);

/// <summary>
/// Embeddings of a data file's texts, computed once and kept on disk under a name made of the
/// model id and the data file's SHA-256, so a changed file or model never reads stale vectors.
/// </summary>
public static class EmbeddingCache
{
    private const int SaveEvery = 1000;

    /// <summary>The default cache folder: ~/.moemesh/cache/embeddings.</summary>
    public static string DefaultFolder
        => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".moemesh", "cache", "embeddings");

    /// <summary>The first 16 hex digits of the SHA-256 of <paramref name="dataFile"/>'s bytes.</summary>
    public static string HashFile(string dataFile)
    {
        using var stream = File.OpenRead(dataFile);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }

    /// <summary>The cache file for <paramref name="dataFile"/> embedded by <paramref name="modelId"/>.</summary>
    public static string PathFor(string folder, string dataFile, string modelId)
    {
        var safeModel = string.Concat(modelId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
        return Path.Combine(folder, $"{Path.GetFileName(dataFile)}.{HashFile(dataFile)}.{safeModel}.emb");
    }

    /// <summary>
    /// The embedding of every text in <paramref name="texts"/> (id → text) from the cache, computing
    /// and saving the ones the cache lacks. A damaged cache file is recomputed, and said so through
    /// <paramref name="warn"/>.
    /// </summary>
    public static IReadOnlyDictionary<int, float[]> LoadOrCompute(
        string dataFile,
        IReadOnlyList<(int Id, string Text)> texts,
        ITextEmbedder embedder,
        string? folder = null,
        IProgress<EmbeddingProgress>? progress = null,
        Action<string>? warn = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFile);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(embedder);
        var path = PathFor(folder ?? DefaultFolder, dataFile, embedder.ModelId);
        var vectors = new Dictionary<int, float[]>();
        if (File.Exists(path))
        {
            try
            {
                var (model, dimension, stored) = EmbeddingStore.Read(path);
                if (model == embedder.ModelId && dimension == embedder.Dimension)
                {
                    vectors = stored;
                }
            }
            catch (InvalidDataException e)
            {
                warn?.Invoke($"{e.Message}; computing the embeddings again");
            }
        }

        var missing = texts.Where(t => !vectors.ContainsKey(t.Id)).ToArray();
        if (missing.Length == 0)
        {
            return vectors;
        }

        for (var i = 0; i < missing.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            vectors[missing[i].Id] = embedder.Embed(missing[i].Text);
            progress?.Report(new EmbeddingProgress(i + 1, missing.Length));
            if ((i + 1) % SaveEvery == 0)
            {
                // Keep what is done so an interrupted run resumes instead of starting over.
                EmbeddingStore.Write(path, embedder.ModelId, embedder.Dimension, vectors);
            }
        }

        EmbeddingStore.Write(path, embedder.ModelId, embedder.Dimension, vectors);
        return vectors;
    }
}
