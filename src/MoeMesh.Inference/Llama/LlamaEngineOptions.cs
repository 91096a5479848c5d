using Microsoft.Extensions.Options;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Settings of the llama.cpp engine, shared by every expert it loads. An expert's manifest can
/// override some of them through <c>EngineOptions</c>: "gpu_layers", "threads", "batch_threads",
/// "sequences", "contexts", "batch_size", "chat_template", "mmap", "prefix_reuse".
/// </summary>
public sealed class LlamaEngineOptions
{
    /// <summary>Most sequences one context may decode together (llama.cpp's own limit is higher, memory is the real one).</summary>
    public const int MaxSequencesPerContext = 64;

    /// <summary>Most contexts per expert.</summary>
    public const int MaxContextsPerExpert = 16;

    /// <summary>
    /// CPU threads for decoding; default <see cref="DefaultThreads"/>: one less than the physical
    /// cores. ggml's worker threads spin while they wait for each other, so when one of them has to
    /// share a core with the rest of the process (the silo, the streams it feeds) every step stalls;
    /// leaving a core free avoids that at a small cost in peak speed.
    /// </summary>
    public int Threads { get; set; } = DefaultThreads;

    /// <summary>CPU threads for prompt processing (batches of many tokens); null means <see cref="Threads"/>.</summary>
    public int? BatchThreads { get; set; }

    /// <summary>Layers to place on the GPU; -1 places all of them when the library has a GPU backend, 0 keeps the model on the CPU.</summary>
    public int GpuLayers { get; set; } = -1;

    /// <summary>Memory-map the model file instead of reading it (the pages are shared and loaded on demand).</summary>
    public bool UseMemoryMap { get; set; } = true;

    /// <summary>
    /// Sequences one context holds: this many requests are decoded together in one batch per step,
    /// and each keeps its KV cache for prefix reuse. Each sequence gets the expert's full context
    /// window, so the KV cache memory grows with this number.
    /// </summary>
    public int SequencesPerContext { get; set; } = 4;

    /// <summary>Contexts (each with its own decoding thread) per expert; more than one helps only with spare cores or GPUs.</summary>
    public int ContextsPerExpert { get; set; } = 1;

    /// <summary>
    /// Keep each sequence's KV cache after a request and compute only the part of the next prompt
    /// after the longest shared prefix. Off, every prompt is computed in full.
    /// </summary>
    public bool ReusePromptPrefix { get; set; } = true;

    /// <summary>Most tokens submitted to one <c>llama_decode</c> call (prompt chunks plus one token per decoding sequence).</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>
    /// Chat template used when the model has none or llama.cpp does not recognise it: a built-in
    /// template name such as "chatml", "llama3" or "mistral-v7". If that fails too, turns are
    /// written as "role: content" lines followed by "assistant:".
    /// </summary>
    public string FallbackChatTemplate { get; set; } = "chatml";

    /// <summary>
    /// A libllama to load instead of the LLamaSharp backend package's (a file, or the folder holding
    /// it), such as a CUDA build on a Jetson; it must be built from the llama.cpp commit LLamaSharp
    /// is written for. The environment variable MOEMESH_LLAMA_LIBRARY wins over this setting; null
    /// uses the backend package.
    /// </summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>Most requests waiting for a sequence per expert; more are refused as overload.</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>Physical cores less one (at least 1, at most 32).</summary>
    public static int DefaultThreads { get; } = Math.Clamp(PhysicalCoreCount() - 1, 1, 32);

    /// <summary>Physical cores, counted from the CPU topology on Linux (SMT siblings count once); elsewhere the processor count.</summary>
    public static int PhysicalCoreCount()
    {
        try
        {
            const string cpus = "/sys/devices/system/cpu";
            if (OperatingSystem.IsLinux() && Directory.Exists(cpus))
            {
                var cores = Directory.GetDirectories(cpus, "cpu*")
                    .Select(d => Path.Combine(d, "topology", "thread_siblings_list"))
                    .Where(File.Exists)
                    .Select(f => File.ReadAllText(f).Trim())
                    .Distinct(StringComparer.Ordinal)
                    .Count();
                if (cores > 0)
                {
                    return Math.Min(cores, Environment.ProcessorCount);
                }
            }
        }
        catch (IOException)
        {
            // Fall back to the logical count.
        }
        catch (UnauthorizedAccessException)
        {
            // Fall back to the logical count.
        }

        return Environment.ProcessorCount;
    }
}

/// <summary>Checks <see cref="LlamaEngineOptions"/> at start-up so a bad setting fails fast with its name.</summary>
public sealed class LlamaEngineOptionsValidator : IValidateOptions<LlamaEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, LlamaEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Every problem with <paramref name="options"/>, each naming the option.</summary>
    public static IReadOnlyList<string> Problems(LlamaEngineOptions options)
    {
        var problems = new List<string>();
        if (options.Threads is < 1 or > 512)
        {
            problems.Add($"LlamaEngineOptions.Threads must be between 1 and 512, got {options.Threads}");
        }

        if (options.BatchThreads is < 1 or > 512)
        {
            problems.Add($"LlamaEngineOptions.BatchThreads must be between 1 and 512 when set, got {options.BatchThreads}");
        }

        if (options.GpuLayers < -1)
        {
            problems.Add($"LlamaEngineOptions.GpuLayers must be -1 (all) or more, got {options.GpuLayers}");
        }

        if (options.SequencesPerContext is < 1 or > LlamaEngineOptions.MaxSequencesPerContext)
        {
            problems.Add($"LlamaEngineOptions.SequencesPerContext must be between 1 and {LlamaEngineOptions.MaxSequencesPerContext}, got {options.SequencesPerContext}");
        }

        if (options.ContextsPerExpert is < 1 or > LlamaEngineOptions.MaxContextsPerExpert)
        {
            problems.Add($"LlamaEngineOptions.ContextsPerExpert must be between 1 and {LlamaEngineOptions.MaxContextsPerExpert}, got {options.ContextsPerExpert}");
        }

        if (options.BatchSize is < 1 or > 65536)
        {
            problems.Add($"LlamaEngineOptions.BatchSize must be between 1 and 65536 tokens, got {options.BatchSize}");
        }

        if (options.BatchSize < options.SequencesPerContext)
        {
            problems.Add($"LlamaEngineOptions.BatchSize ({options.BatchSize}) must be at least SequencesPerContext ({options.SequencesPerContext}): every decoding sequence needs a token in each batch");
        }

        if (string.IsNullOrWhiteSpace(options.FallbackChatTemplate))
        {
            problems.Add("LlamaEngineOptions.FallbackChatTemplate must name a template, such as \"chatml\"");
        }

        if (options.MaxQueuedRequests < 1)
        {
            problems.Add($"LlamaEngineOptions.MaxQueuedRequests must be at least 1, got {options.MaxQueuedRequests}");
        }

        if (options.NativeLibraryPath is { } path && string.IsNullOrWhiteSpace(path))
        {
            problems.Add("LlamaEngineOptions.NativeLibraryPath must be null or the path of a libllama (or its folder)");
        }

        return problems;
    }
}
