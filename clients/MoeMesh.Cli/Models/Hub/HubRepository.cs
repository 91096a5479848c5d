using System.Text.RegularExpressions;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>A model repository on the hub (<c>org/name</c>) and the URLs of its files.</summary>
public sealed partial record HubRepository
{
    private HubRepository(string organization, string name)
    {
        Organization = organization;
        Name = name;
    }

    public string Organization { get; }

    public string Name { get; }

    public string Id => $"{Organization}/{Name}";

    /// <summary>Parses <c>org/name</c>; throws <see cref="ArgumentException"/> with the expected shape otherwise.</summary>
    public static HubRepository Parse(string value)
    {
        var match = RepoPattern().Match(value?.Trim() ?? "");
        return match.Success
            ? new HubRepository(match.Groups[1].Value, match.Groups[2].Value)
            : throw new ArgumentException($"\"{value}\" is not a hub repository; expected organization/name, such as Qwen/Qwen2.5-0.5B-Instruct-GGUF.");
    }

    /// <summary>Checks a file path inside a repository: a relative <c>.gguf</c> path without <c>..</c>.</summary>
    public static string ValidateFile(string file)
    {
        var trimmed = file?.Trim() ?? "";
        var segments = trimmed.Split('/');
        if (trimmed.Length == 0 || trimmed.StartsWith('/') || trimmed.Contains('\\', StringComparison.Ordinal)
            || segments.Any(s => s is "" or "." or ".." || s.Any(char.IsControl)))
        {
            throw new ArgumentException($"\"{file}\" is not a file path inside a repository.");
        }

        return trimmed.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
            ? trimmed
            : throw new ArgumentException($"\"{file}\" is not a GGUF file (the name must end in .gguf); llama.cpp experts need GGUF.");
    }

    /// <summary><c>{endpoint}/{org}/{name}/resolve/{revision}/{file}</c>.</summary>
    public Uri ResolveUrl(Uri endpoint, string revision, string file)
        => new($"{Base(endpoint)}/{Escape(Organization)}/{Escape(Name)}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Escape))}");

    /// <summary><c>{endpoint}/api/models/{org}/{name}/revision/{revision}</c>: the repository's files at a revision.</summary>
    public Uri RevisionUrl(Uri endpoint, string revision)
        => new($"{Base(endpoint)}/api/models/{Escape(Organization)}/{Escape(Name)}/revision/{Uri.EscapeDataString(revision)}");

    /// <summary>The repository's page, for messages.</summary>
    public string PageUrl(Uri endpoint) => $"{Base(endpoint)}/{Id}";

    public override string ToString() => Id;

    private static string Base(Uri endpoint) => endpoint.AbsoluteUri.TrimEnd('/');

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    [GeneratedRegex(@"^([A-Za-z0-9][A-Za-z0-9._-]{0,95})/([A-Za-z0-9][A-Za-z0-9._-]{0,95})$")]
    private static partial Regex RepoPattern();
}
