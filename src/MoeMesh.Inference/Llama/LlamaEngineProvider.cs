using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Loads GGUF experts into llama.cpp (<see cref="ExpertEngines.LlamaCpp"/>). Every failure (no file,
/// a corrupt or unsupported GGUF, missing native libraries, llama.cpp refusing the model, no memory
/// for the context) becomes an <see cref="ExpertUnavailableException"/> naming the expert and the
/// reason; the file is validated in managed code before llama.cpp sees it, so a bad file cannot
/// take the process down, and the other experts keep serving.
/// </summary>
public sealed class LlamaEngineProvider : IExpertEngineProvider
{
    private readonly LlamaEngineOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public LlamaEngineProvider(IOptions<LlamaEngineOptions> options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), loggerFactory, time)
    {
    }

    public LlamaEngineProvider(LlamaEngineOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = LlamaEngineOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(LlamaEngineOptions), typeof(LlamaEngineOptions), problems);
        }

        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<LlamaEngineProvider>();
        _time = time ?? TimeProvider.System;
    }

    public string Engine => ExpertEngines.LlamaCpp;

    /// <summary>Loads and checks llama.cpp through LLamaSharp now (it is otherwise loaded with the first model).</summary>
    public LlamaRuntimeInfo EnsureRuntime()
    {
        var first = LlamaRuntime.Info is null;
        var info = LlamaRuntime.EnsureInitialized(_options.NativeLibraryPath, _loggerFactory.CreateLogger("MoeMesh.Inference.Llama.Runtime"));
        if (first)
        {
            LlamaEngineLog.RuntimeLoaded(_logger, info.Version, info.LibraryPath, info.Source, string.Join(", ", info.Devices));
        }

        return info;
    }

    async Task<IExpertEngine> IExpertEngineProvider.LoadAsync(ExpertManifest manifest, IProgress<double>? progress, CancellationToken cancellationToken) =>
        await LoadAsync(manifest, progress, cancellationToken).ConfigureAwait(false);

    /// <summary>Loads the expert's model; see the class remarks for how failures are reported.</summary>
    public Task<LlamaEngine> LoadAsync(ExpertManifest manifest, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        cancellationToken.ThrowIfCancellationRequested();

        // Loading reads the file and can take seconds to minutes; keep it off the caller's thread.
        return Task.Run(() => Load(manifest, progress, cancellationToken), cancellationToken);
    }

    private LlamaEngine Load(ExpertManifest manifest, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var id = string.IsNullOrWhiteSpace(manifest.Id) ? "(no id)" : manifest.Id;
        var (path, settings) = CheckManifest(id, manifest);
        CheckFile(id, path);

        try
        {
            EnsureRuntime();
        }
        catch (LlamaLibraryException e)
        {
            throw Unavailable(id, e.Message, e);
        }

        cancellationToken.ThrowIfCancellationRequested();
        LlamaNativeLog.ClearRecentErrors();
        var model = LlamaModel.Load(path, settings.GpuLayers, settings.UseMemoryMap, progress, cancellationToken)
            ?? throw Unavailable(id, $"llama.cpp could not load {path}{NativeReason()}");

        var schedulers = new List<LlamaSequenceScheduler>();
        try
        {
            if (!model.HasDecoder || model.HasEncoder)
            {
                throw Unavailable(id, $"{path} is an encoder or encoder-decoder model ({model.Description}); the engine runs decoder-only language models");
            }

            var formatter = new LlamaPromptFormatter(model, settings);
            for (var i = 0; i < settings.ContextsPerExpert; i++)
            {
                var scheduler = LlamaSequenceScheduler.Create(model, settings, _logger, id, i)
                    ?? throw Unavailable(id,
                        $"llama.cpp could not create a context of {settings.ContextSize} tokens × {settings.SequencesPerContext} sequences " +
                        $"(lower 'contextSize', 'sequences' or 'contexts'){NativeReason()}");
                schedulers.Add(scheduler);
            }

            var engine = new LlamaEngine(manifest with { ModelPath = path }, model, settings, formatter, [.. schedulers], _logger, _time);
            LlamaEngineLog.ModelLoaded(
                _logger, id, path, model.Description, model.ParameterCount, settings.ContextSize, settings.SequencesPerContext,
                settings.ContextsPerExpert, settings.Threads, settings.GpuLayers, formatter.TemplateDescription,
                _time.GetElapsedTime(started).TotalMilliseconds);
            return engine;
        }
        catch
        {
            foreach (var scheduler in schedulers)
            {
                scheduler.Dispose();
            }

            model.Dispose();
            throw;
        }
    }

    /// <summary>The model's full path and the expert's settings, or an error saying what in the manifest is wrong.</summary>
    private (string Path, LlamaExpertSettings Settings) CheckManifest(string id, ExpertManifest manifest)
    {
        if (manifest.Engine != ExpertEngines.LlamaCpp)
        {
            throw Unavailable(id, $"its manifest asks for the '{manifest.Engine}' engine, not '{ExpertEngines.LlamaCpp}'");
        }

        if (string.IsNullOrWhiteSpace(manifest.ModelPath))
        {
            throw Unavailable(id, "its manifest has no 'modelPath'");
        }

        var path = Path.GetFullPath(manifest.ModelPath);
        if (!File.Exists(path))
        {
            throw Unavailable(id, $"the model file {path} does not exist");
        }

        var problems = new List<string>();
        var settings = LlamaExpertSettings.Resolve(_options, manifest, problems);
        if (problems.Count > 0)
        {
            throw Unavailable(id, $"its manifest is invalid: {string.Join("; ", problems)}");
        }

        if (settings.IgnoredKeys.Count > 0)
        {
            LlamaEngineLog.IgnoredEngineOptions(_logger, id, string.Join(", ", settings.IgnoredKeys));
        }

        return (path, settings);
    }

    /// <summary>Reads and checks the GGUF header in managed code, so llama.cpp never sees a file that could crash it.</summary>
    private void CheckFile(string id, string path)
    {
        GgufFile file;
        try
        {
            file = GgufReader.Read(path);
        }
        catch (GgufFormatException e)
        {
            throw Unavailable(id, $"{path} is not a valid GGUF file: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(id, $"{path} could not be read: {e.Message}", e);
        }

        var preflight = LlamaModelPreflight.Check(file);
        if (preflight.Count > 0)
        {
            throw Unavailable(id, $"{path} has metadata llama.cpp cannot use safely: {string.Join("; ", preflight)}");
        }
    }

    private static string NativeReason() => LlamaNativeLog.RecentErrorSummary();

    private ExpertUnavailableException Unavailable(string id, string reason, Exception? inner = null)
    {
        LlamaEngineLog.LoadFailed(_logger, id, reason, inner);
        return new ExpertUnavailableException($"Expert '{id}' is unavailable: {reason}.", inner);
    }
}
