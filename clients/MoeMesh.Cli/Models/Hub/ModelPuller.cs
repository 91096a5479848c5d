using System.Security.Cryptography;
using MoeMesh.Experts;
using MoeMesh.Inference.Experts;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>What to pull: a repository and either a file or a quantisation.</summary>
public sealed record PullRequest(HubRepository Repository)
{
    /// <summary>The quantisation picked when neither a file nor a quantisation is named.</summary>
    public const string DefaultQuant = "Q4_K_M";

    public string? File { get; init; }

    public string? Quant { get; init; }

    public string Revision { get; init; } = "main";

    public ManifestChoices Manifest { get; init; } = new();
}

/// <summary>A pulled model: where it is, what it is, and whether anything had to be downloaded.</summary>
public sealed record PullResult(
    string Repository,
    string File,
    string Revision,
    string? Commit,
    string Path,
    string ManifestPath,
    string ExpertId,
    long Bytes,
    string Sha256,
    bool Verified,
    bool Downloaded,
    long ResumedFrom,
    double Seconds,
    string Quantization,
    long ParameterCount);

/// <summary>
/// <c>moemesh models pull</c>'s work: resolve the file, ask the hub what it publishes, download (or find
/// the same version already in the cache), check it is a GGUF model, and write its expert manifest
/// and origin beside it.
/// </summary>
public sealed class ModelPuller(HubClient hub, ModelCache cache, TimeProvider? time = null, int maxAttempts = 3)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public ModelCache Cache => cache;

    public async Task<PullResult> PullAsync(PullRequest request, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        if (hub.Settings.Offline)
        {
            throw new HubException(HubFailure.Offline, "offline: HF_HUB_OFFLINE is set, so nothing is downloaded.");
        }

        var repository = request.Repository;
        var file = request.File is { } named
            ? HubRepository.ValidateFile(named)
            : QuantFilePicker.Pick(await hub.ListFilesAsync(repository, request.Revision, cancellationToken), request.Quant ?? PullRequest.DefaultQuant, repository.Id);
        var info = await hub.GetFileInfoAsync(repository, request.Revision, file, cancellationToken);
        var target = cache.PathFor(repository, file);
        var label = $"{repository}/{file}";

        DownloadOutcome? outcome = null;
        var existing = UpToDate(target, info);
        if (existing is null)
        {
            await progress.WriteLineAsync($"pulling {label}{(info.Size is { } size ? $" ({size / 1e6:0.0} MB)" : "")} into {System.IO.Path.GetDirectoryName(target)}");
            outcome = await new ResumableDownload(hub, maxAttempts).RunAsync(repository, info, target, new DownloadProgress(progress, System.IO.Path.GetFileName(file), _time), cancellationToken);
        }
        else
        {
            await progress.WriteLineAsync($"{label} is already in the cache and matches the hub ({target})");
        }

        var origin = new ModelOrigin
        {
            Repository = repository.Id,
            File = file,
            Revision = request.Revision,
            Commit = info.Commit ?? existing?.Commit,
            Sha256 = outcome?.Sha256 ?? existing!.Sha256,
            Verified = info.Sha256 is not null,
            Bytes = outcome?.Bytes ?? existing!.Bytes,
            PulledAt = outcome is null ? existing!.PulledAt : _time.GetUtcNow(),
        };
        var manifest = WriteManifest(target, repository, request.Manifest);
        ModelCache.WriteOrigin(target, origin);
        return new PullResult(
            repository.Id, file, request.Revision, origin.Commit, target, ModelCache.ManifestPathFor(target), manifest.Id, origin.Bytes, origin.Sha256,
            origin.Verified, outcome is not null, outcome?.ResumedFrom ?? 0, _time.GetElapsedTime(started).TotalSeconds, manifest.Quantization, manifest.ParameterCount);
    }

    /// <summary>The origin of the stored file when it is the version the hub publishes now; null when it must be downloaded.</summary>
    private static ModelOrigin? UpToDate(string target, HubFileInfo info)
    {
        if (!System.IO.File.Exists(target) || ModelCache.ReadOrigin(target) is not { } origin)
        {
            return null;
        }

        var length = new FileInfo(target).Length;
        if (info.Size is { } size && size != length)
        {
            return null;
        }

        if (info.Sha256 is { } sha)
        {
            // Hash the stored file again: the origin record alone could be stale.
            return string.Equals(sha, origin.Sha256, StringComparison.OrdinalIgnoreCase) && string.Equals(sha, HashFile(target), StringComparison.OrdinalIgnoreCase) ? origin : null;
        }

        return info.Commit is not null && info.Commit == origin.Commit ? origin : null;
    }

    private static ExpertManifest WriteManifest(string target, HubRepository repository, ManifestChoices choices)
    {
        GgufFile gguf;
        try
        {
            gguf = GgufReader.Read(target);
        }
        catch (GgufFormatException ex)
        {
            System.IO.File.Delete(target);
            System.IO.File.Delete(ModelCache.OriginPathFor(target));
            throw new HubException(HubFailure.BadResponse, $"{repository}: the downloaded file is not a valid GGUF model ({ex.Message}); it was removed.", ex);
        }

        var manifest = GgufExpertManifest.Build(gguf, target, repository.Id, choices);
        ExpertManifestFile.Write(ModelCache.ManifestPathFor(target), manifest);
        return manifest;
    }

    private static string HashFile(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
