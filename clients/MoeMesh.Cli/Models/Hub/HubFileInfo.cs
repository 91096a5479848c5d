namespace MoeMesh.Cli.Models.Hub;

/// <summary>What the hub publishes about one file before it is downloaded.</summary>
/// <param name="DownloadUrl">Where the bytes are (the CDN location the hub redirects to, or the resolve URL itself).</param>
/// <param name="Commit">The commit the revision resolved to (<c>X-Repo-Commit</c>), when given.</param>
/// <param name="ETag">The file's entity tag without quotes (<c>X-Linked-Etag</c> for large files, else <c>ETag</c>).</param>
/// <param name="Size">Bytes (<c>X-Linked-Size</c>, else the content length), when given.</param>
public sealed record HubFileInfo(Uri DownloadUrl, string? Commit, string? ETag, long? Size)
{
    /// <summary>The SHA-256 the hub publishes for large (LFS) files: their entity tag is the hash itself.</summary>
    public string? Sha256 => ETag is { Length: 64 } tag && tag.All(char.IsAsciiHexDigit) ? tag.ToLowerInvariant() : null;

    /// <summary>What identifies this version of the file, to tell whether a partial download belongs to it.</summary>
    public string Identity => $"{Sha256 ?? ETag ?? Commit ?? "unknown"}:{Size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}";
}
