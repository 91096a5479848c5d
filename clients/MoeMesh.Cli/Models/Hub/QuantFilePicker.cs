using System.Text.RegularExpressions;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>Picks the GGUF file of a quantisation (such as Q4_K_M) from a repository's file list.</summary>
public static partial class QuantFilePicker
{
    /// <summary>
    /// The file of <paramref name="files"/> whose name carries <paramref name="quant"/> as a whole token
    /// (any case; <c>Q4_K</c> does not match <c>IQ4_K</c> nor <c>Q4_K_M</c> nor <c>Q4_K_S</c>); files at the repository's
    /// top level and shorter names first. Throws <see cref="HubException"/> naming the GGUF files there are.
    /// </summary>
    public static string Pick(IReadOnlyList<string> files, string quant, string repository)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (string.IsNullOrWhiteSpace(quant) || !QuantPattern().IsMatch(quant))
        {
            throw new ArgumentException($"\"{quant}\" is not a quantisation name such as Q4_K_M, Q8_0 or F16.");
        }

        var gguf = files.Where(f => f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && !IsProjector(f)).ToList();
        var token = new Regex($"(?<![A-Za-z0-9]){Regex.Escape(quant)}(?![A-Za-z0-9_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var matches = gguf.Where(f => token.IsMatch(Path.GetFileName(f)))
            .OrderBy(f => f.Count(c => c == '/'))
            .ThenBy(f => f.Length)
            .ThenBy(f => f, StringComparer.Ordinal)
            .ToList();
        if (matches.Count == 0)
        {
            var listed = gguf.Count == 0 ? "it holds no GGUF files" : $"its GGUF files: {string.Join(", ", gguf.Take(20))}{(gguf.Count > 20 ? ", …" : "")}";
            throw new HubException(HubFailure.NoMatchingFile, $"{repository} has no {quant} GGUF file; {listed}. Name the file instead of --quant.");
        }

        var pick = matches[0];
        if (ShardPattern().Match(pick) is { Success: true } shard && shard.Groups[2].Value.TrimStart('0') != "1")
        {
            throw new HubException(HubFailure.NoMatchingFile,
                $"{repository}'s {quant} model is split into {shard.Groups[2].Value.TrimStart('0')} files ({pick}, …); split GGUF models are not supported. Choose a smaller quantisation.");
        }

        return pick;
    }

    /// <summary>Vision projectors ship as GGUF beside the model but are not language models.</summary>
    private static bool IsProjector(string file) => Path.GetFileName(file).Contains("mmproj", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("^[A-Za-z0-9_]{2,16}$")]
    private static partial Regex QuantPattern();

    [GeneratedRegex(@"-(\d{5})-of-(\d{5})\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex ShardPattern();
}
