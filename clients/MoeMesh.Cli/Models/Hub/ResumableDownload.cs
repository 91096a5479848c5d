using System.Net;
using System.Security.Cryptography;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>What a finished download did.</summary>
/// <param name="Bytes">The file's size.</param>
/// <param name="Sha256">The SHA-256 of the stored file (lower-case hex).</param>
/// <param name="ResumedFrom">Bytes already on disk from an earlier, interrupted download (0 for a fresh one).</param>
/// <param name="Attempts">HTTP downloads it took (more than 1 after a broken connection).</param>
public sealed record DownloadOutcome(long Bytes, string Sha256, long ResumedFrom, int Attempts);

/// <summary>
/// Downloads one hub file into <c>&lt;target&gt;.part</c>, resuming an earlier partial download of the
/// same version with an HTTP Range request, hashes it as it arrives, checks size and SHA-256
/// against what the hub published, and only then moves it into place. A hash mismatch removes the
/// partial file; a broken connection keeps it (and is retried here up to <c>maxAttempts</c> times).
/// </summary>
public sealed class ResumableDownload(HubClient hub, int maxAttempts = 3)
{
    private const int BufferBytes = 1 << 20;

    /// <summary>A connection that delivers nothing for this long is treated as broken (and resumed).</summary>
    public static TimeSpan StallTimeout { get; } = TimeSpan.FromSeconds(60);

    public static string PartPath(string target) => target + ".part";

    /// <summary>Beside the partial file: which version of the file it holds (see <see cref="HubFileInfo.Identity"/>).</summary>
    public static string PartIdentityPath(string target) => target + ".part.version";

    public async Task<DownloadOutcome> RunAsync(
        HubRepository repository, HubFileInfo info, string target, DownloadProgress progress, CancellationToken cancellationToken)
    {
        var part = PartPath(target);
        var identityFile = PartIdentityPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        if (File.Exists(part) && (!File.Exists(identityFile) || await File.ReadAllTextAsync(identityFile, cancellationToken) != info.Identity))
        {
            // A partial download of another version (or of unknown origin) cannot be continued.
            File.Delete(part);
        }

        await File.WriteAllTextAsync(identityFile, info.Identity, cancellationToken);
        var resumedFrom = File.Exists(part) ? new FileInfo(part).Length : 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (bytes, sha) = await DownloadOnceAsync(repository, info, part, progress, cancellationToken);
                Verify(info, part, identityFile, bytes, sha);
                File.Move(part, target, overwrite: true);
                File.Delete(identityFile);
                return new DownloadOutcome(bytes, sha, resumedFrom, attempt);
            }
            catch (HubException ex) when (ex.Failure == HubFailure.Interrupted && attempt < maxAttempts)
            {
                progress.Report(File.Exists(part) ? new FileInfo(part).Length : 0, info.Size, final: true);
            }
        }
    }

    private async Task<(long Bytes, string Sha256)> DownloadOnceAsync(
        HubRepository repository, HubFileInfo info, string part, DownloadProgress progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(part, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferBytes, useAsync: true);
        var have = await HashExistingAsync(file, hash, info.Size, cancellationToken);
        if (info.Size is { } size && have == size)
        {
            return (have, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }

        using var response = await hub.OpenDownloadAsync(repository, info.DownloadUrl, have, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable
            || (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From != have))
        {
            // The server will not continue where the partial file ends: drop it and ask again from the first byte.
            file.SetLength(0);
            throw new HubException(HubFailure.Interrupted, $"the server would not resume {repository} at byte {have}; starting over");
        }

        if (response.StatusCode != HttpStatusCode.PartialContent && have > 0)
        {
            // A full answer to a Range request: the body starts at the first byte.
            file.SetLength(0);
            hash.GetHashAndReset();
        }

        var total = info.Size ?? (response.Content.Headers.ContentLength is { } length ? have + length : null);
        var done = file.Length;
        file.Seek(0, SeekOrigin.End);
        var buffer = new byte[BufferBytes];
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            int read;
            while ((read = await ReadAsync(body, buffer, stall, cancellationToken)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                hash.AppendData(buffer, 0, read);
                done += read;
                progress.Report(done, total);
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            await file.FlushAsync(CancellationToken.None);
            throw new HubException(HubFailure.Interrupted,
                $"the download of {repository} broke off after {done / 1e6:0.0} MB ({ex.Message}); run the same command again to resume it", ex);
        }

        await file.FlushAsync(cancellationToken);
        progress.Report(done, total, final: true);
        return (done, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static async Task<int> ReadAsync(Stream body, byte[] buffer, CancellationTokenSource stall, CancellationToken cancellationToken)
    {
        stall.CancelAfter(StallTimeout);
        try
        {
            return await body.ReadAsync(buffer, stall.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"no data for {StallTimeout.TotalSeconds:0} s", ex);
        }
    }

    /// <summary>Hashes the bytes an earlier attempt left; drops them if there are more than the file has.</summary>
    private static async Task<long> HashExistingAsync(FileStream file, IncrementalHash hash, long? size, CancellationToken cancellationToken)
    {
        if (size is { } expected && file.Length > expected)
        {
            file.SetLength(0);
        }

        var buffer = new byte[BufferBytes];
        file.Seek(0, SeekOrigin.Begin);
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        return file.Length;
    }

    private static void Verify(HubFileInfo info, string part, string identityFile, long bytes, string sha)
    {
        if (info.Size is { } size && bytes != size)
        {
            throw new HubException(HubFailure.Interrupted, $"the download ended at {bytes:N0} of {size:N0} bytes; run the same command again to resume it");
        }

        if (info.Sha256 is { } expected && !string.Equals(expected, sha, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(part);
            File.Delete(identityFile);
            throw new HubException(HubFailure.HashMismatch,
                $"the downloaded file's SHA-256 {sha} does not match the hub's {expected}; the file was removed. Run the command again to download it afresh.");
        }
    }
}
