using System.Globalization;
using MoeMesh.Experts;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// The settings one expert runs with: the engine options, overridden by the manifest's
/// <c>EngineOptions</c> entries, plus the manifest's context size.
/// </summary>
internal sealed record LlamaExpertSettings
{
    /// <summary>The <c>EngineOptions</c> keys the llama.cpp engine reads.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["gpu_layers", "threads", "batch_threads", "sequences", "contexts", "batch_size", "chat_template", "mmap", "prefix_reuse"];

    public required int ContextSize { get; init; }

    public required int Threads { get; init; }

    public required int BatchThreads { get; init; }

    public required int GpuLayers { get; init; }

    public required bool UseMemoryMap { get; init; }

    public required bool ReusePromptPrefix { get; init; }

    public required int SequencesPerContext { get; init; }

    public required int ContextsPerExpert { get; init; }

    public required int BatchSize { get; init; }

    public required string? ChatTemplateOverride { get; init; }

    public required string FallbackChatTemplate { get; init; }

    public required int MaxQueuedRequests { get; init; }

    /// <summary>Unknown <c>EngineOptions</c> keys, reported in the log.</summary>
    public IReadOnlyList<string> IgnoredKeys { get; init; } = [];

    /// <summary>Combines <paramref name="options"/> with <paramref name="manifest"/>; problems are collected in <paramref name="problems"/>.</summary>
    public static LlamaExpertSettings Resolve(LlamaEngineOptions options, ExpertManifest manifest, List<string> problems)
    {
        var values = manifest.EngineOptions ?? new Dictionary<string, string>();
        var threads = Integer("threads", options.Threads, 1, 512);
        var sequences = Integer("sequences", options.SequencesPerContext, 1, LlamaEngineOptions.MaxSequencesPerContext);
        var batchSize = Integer("batch_size", options.BatchSize, 1, 65536);
        if (batchSize < sequences)
        {
            problems.Add($"engineOptions 'batch_size' ({batchSize}) must be at least 'sequences' ({sequences})");
        }

        var settings = new LlamaExpertSettings
        {
            ContextSize = manifest.ContextSize,
            Threads = threads,
            BatchThreads = Integer("batch_threads", options.BatchThreads ?? threads, 1, 512),
            GpuLayers = Integer("gpu_layers", options.GpuLayers, -1, int.MaxValue),
            UseMemoryMap = Boolean("mmap", options.UseMemoryMap),
            ReusePromptPrefix = Boolean("prefix_reuse", options.ReusePromptPrefix),
            SequencesPerContext = sequences,
            ContextsPerExpert = Integer("contexts", options.ContextsPerExpert, 1, LlamaEngineOptions.MaxContextsPerExpert),
            BatchSize = batchSize,
            ChatTemplateOverride = values.TryGetValue("chat_template", out var template) && !string.IsNullOrWhiteSpace(template) ? template : null,
            FallbackChatTemplate = options.FallbackChatTemplate,
            MaxQueuedRequests = options.MaxQueuedRequests,
            IgnoredKeys = [.. values.Keys.Where(k => !Keys.Contains(k)).Order(StringComparer.Ordinal)],
        };

        if (manifest.ContextSize < 8)
        {
            problems.Add($"contextSize must be at least 8 tokens for the llama.cpp engine, got {manifest.ContextSize}");
        }

        return settings;

        int Integer(string key, int fallback, int min, int max)
        {
            if (!values.TryGetValue(key, out var text))
            {
                return fallback;
            }

            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                problems.Add($"engineOptions '{key}' must be an integer between {min} and {max}, got \"{text}\"");
                return fallback;
            }

            return value;
        }

        bool Boolean(string key, bool fallback)
        {
            if (!values.TryGetValue(key, out var text))
            {
                return fallback;
            }

            if (!bool.TryParse(text, out var value))
            {
                problems.Add($"engineOptions '{key}' must be true or false, got \"{text}\"");
                return fallback;
            }

            return value;
        }
    }
}
