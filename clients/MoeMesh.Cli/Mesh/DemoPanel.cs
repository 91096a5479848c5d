using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Mesh;

/// <summary>One model of the demo's real panel.</summary>
public sealed record DemoPanelModel(string Repository, string File, string ExpertId, string[] Skills);

/// <summary>
/// The demo's real experts: three small instruct models (Q4_K_M, about 2 GB together) pulled from
/// the Hugging Face hub once and kept in the model cache. With no hub in reach the demo says so in
/// one line and runs on the synthesized experts instead.
/// </summary>
public static class DemoPanel
{
    /// <summary>How long the demo waits for the hub before running on synthesized experts.</summary>
    private static readonly TimeSpan ReachabilityTimeout = TimeSpan.FromSeconds(3);

    /// <summary>A general assistant, a math and a code model; the skills are those of the synthesized demo experts.</summary>
    public static IReadOnlyList<DemoPanelModel> Models { get; } =
    [
        new("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf", "qwen2.5-0.5b-instruct", ["general", "writing", "history", "facts"]),
        new("bartowski/Qwen2.5-Math-1.5B-Instruct-GGUF", "Qwen2.5-Math-1.5B-Instruct-Q4_K_M.gguf", "qwen2.5-math-1.5b-instruct", ["math", "arithmetic", "algebra", "numbers", "times"]),
        new("Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct", ["code", "programming", "software", "bug"]),
    ];

    /// <summary>How to get real models, for the line the demo prints when it cannot.</summary>
    public const string RealModelsHint = "for real answers run it where huggingface.co (or HF_ENDPOINT) is reachable, or pull a model: moemesh models pull Qwen/Qwen2.5-0.5B-Instruct-GGUF --quant Q4_K_M";

    /// <summary>
    /// The manifests of the real panel: from the cache when all are there, else pulled when the hub
    /// answers within a few seconds; null (after one line saying why) when the demo should use its
    /// synthesized experts, as <paramref name="offline"/> asks.
    /// </summary>
    public static async Task<IReadOnlyList<string>?> ResolveAsync(bool offline, TextWriter progress, CancellationToken cancellationToken)
    {
        if (offline)
        {
            await progress.WriteLineAsync($"--offline: the demo runs on synthesized experts (random weights, their text is noise); {RealModelsHint}");
            return null;
        }

        HubSettings settings;
        try
        {
            settings = HubSettings.FromEnvironment();
        }
        catch (ArgumentException ex)
        {
            await progress.WriteLineAsync($"{ex.Message} The demo runs on synthesized experts instead.");
            return null;
        }

        var cache = new ModelCache(settings.ModelsDirectory);
        var cached = Models.Select(m => Cached(cache, m)).ToList();
        if (cached.All(m => m is not null))
        {
            await progress.WriteLineAsync($"using the real demo panel from {cache.Directory}: {string.Join(", ", Models.Select(m => m.ExpertId))}");
            return cached!;
        }

        if (settings.Offline)
        {
            await progress.WriteLineAsync($"offline (HF_HUB_OFFLINE): the demo runs on synthesized experts (random weights, their text is noise); {RealModelsHint}");
            return null;
        }

        // The quick check below has its own limit; the downloads after it may connect more slowly.
        using var http = HubClient.CreateHttpClient(TimeSpan.FromSeconds(15));
        var hub = new HubClient(http, settings);
        try
        {
            await CheckReachableAsync(hub, cancellationToken);
            await progress.WriteLineAsync($"pulling the real demo panel once ({Models.Count} models, about 2 GB; --offline skips it)…");
            var puller = new ModelPuller(hub, cache);
            var manifests = new List<string>();
            foreach (var model in Models)
            {
                var request = new PullRequest(HubRepository.Parse(model.Repository))
                {
                    File = model.File,
                    Manifest = new ManifestChoices { Id = model.ExpertId, Skills = model.Skills },
                };
                manifests.Add((await puller.PullAsync(request, progress, cancellationToken)).ManifestPath);
            }

            return manifests;
        }
        catch (HubException ex) when (ex.Failure == HubFailure.Offline)
        {
            await progress.WriteLineAsync($"the model hub at {settings.Endpoint.AbsoluteUri.TrimEnd('/')} is unreachable, so the demo runs on synthesized experts (random weights, their text is noise); {RealModelsHint}");
            return null;
        }
        catch (Exception ex) when (ex is HubException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            await progress.WriteLineAsync($"could not pull the real demo panel ({ex.Message}); the demo runs on synthesized experts instead");
            return null;
        }
    }

    /// <summary>One quick request to the hub, bounded so that a machine without network starts the demo at once.</summary>
    private static async Task CheckReachableAsync(HubClient hub, CancellationToken cancellationToken)
    {
        using var quick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quick.CancelAfter(ReachabilityTimeout);
        var first = Models[0];
        try
        {
            await hub.GetFileInfoAsync(HubRepository.Parse(first.Repository), "main", first.File, quick.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HubException(HubFailure.Offline, "no answer in time");
        }
    }

    private static string? Cached(ModelCache cache, DemoPanelModel model)
    {
        var path = cache.PathFor(HubRepository.Parse(model.Repository), model.File);
        var manifest = ModelCache.ManifestPathFor(path);
        return File.Exists(path) && File.Exists(manifest) && ModelCache.ReadOrigin(path) is not null ? manifest : null;
    }
}
