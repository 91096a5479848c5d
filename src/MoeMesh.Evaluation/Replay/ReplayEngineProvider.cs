using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoeMesh.Devices;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Data;

namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// Loads replay experts (<see cref="ExpertEngines.Replay"/>): a manifest names the recorded model
/// (<see cref="ExpertManifest.RecordedModel"/>, or the engine option <c>"model"</c>) and the
/// recorded-outputs file or its folder (<see cref="ExpertManifest.ModelPath"/>, else
/// <see cref="ReplayEngineOptions.DataPath"/>). Every replay expert of the process shares one parsed
/// copy of each recording. Costs are predicted for this silo's <see cref="DeviceProfile"/>. Every
/// load failure (no file, a malformed file, an unknown model, bad engine options, no device) is an
/// <see cref="ExpertUnavailableException"/> naming the expert and the reason.
/// </summary>
public sealed partial class ReplayEngineProvider : IExpertEngineProvider
{
    /// <summary>Engine option: wall-clock time per unit of predicted time (overrides <see cref="ReplayEngineOptions.TimeScale"/>).</summary>
    public const string TimeScaleOption = "time_scale";

    /// <summary>Engine option: output tokens assumed where the recording has no length (overrides <see cref="ReplayEngineOptions.OutputTokens"/>).</summary>
    public const string OutputTokensOption = "output_tokens";

    /// <summary>Engine option naming the recorded model when the manifest has no <see cref="ExpertManifest.RecordedModel"/>.</summary>
    public const string ModelOption = "model";

    private static readonly string[] KnownOptions = [TimeScaleOption, OutputTokensOption, ModelOption];

    private readonly ReplayEngineOptions _options;
    private readonly ReplayRecordings _recordings;
    private readonly DeviceProfile? _device;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the provider; <paramref name="device"/> is the silo's device, whose speed and power the replayed runs take.</summary>
    public ReplayEngineProvider(
        IOptions<ReplayEngineOptions> options,
        ReplayRecordings recordings,
        DeviceProfile? device = null,
        TimeProvider? time = null,
        ILogger<ReplayEngineProvider>? logger = null)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), recordings, device, time, logger)
    {
    }

    /// <summary>Creates the provider from options already in hand.</summary>
    public ReplayEngineProvider(
        ReplayEngineOptions options,
        ReplayRecordings recordings,
        DeviceProfile? device = null,
        TimeProvider? time = null,
        ILogger<ReplayEngineProvider>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(recordings);
        var problems = ReplayEngineOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(ReplayEngineOptions), typeof(ReplayEngineOptions), problems);
        }

        _options = options;
        _recordings = recordings;
        _device = device;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Engine => ExpertEngines.Replay;

    async Task<IExpertEngine> IExpertEngineProvider.LoadAsync(ExpertManifest manifest, IProgress<double>? progress, CancellationToken cancellationToken)
        => await LoadAsync(manifest, progress, cancellationToken).ConfigureAwait(false);

    /// <summary>Loads a replay expert; see the class remarks for how failures are reported.</summary>
    public async Task<ReplayEngine> LoadAsync(ExpertManifest manifest, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        cancellationToken.ThrowIfCancellationRequested();
        var id = string.IsNullOrWhiteSpace(manifest.Id) ? "(no id)" : manifest.Id;
        try
        {
            var engine = await LoadCoreAsync(manifest, id, cancellationToken).ConfigureAwait(false);
            progress?.Report(1);
            return engine;
        }
        catch (ExpertUnavailableException ex)
        {
            LogLoadFailed(_logger, id, ex.Message);
            throw;
        }
    }

    private async Task<ReplayEngine> LoadCoreAsync(ExpertManifest manifest, string id, CancellationToken cancellationToken)
    {
        if (manifest.Engine != ExpertEngines.Replay)
        {
            throw Unavailable(id, $"its manifest asks for the '{manifest.Engine}' engine, not '{ExpertEngines.Replay}'");
        }

        if (_device is null)
        {
            throw Unavailable(id, "the replay engine needs the silo's device profile to time its runs, and none is registered");
        }

        var problems = new List<string>();
        var timeScale = ReadDouble(manifest, TimeScaleOption, _options.TimeScale, 0, ReplayEngineOptions.MaxTimeScale, problems);
        var outputTokens = ReadInt(manifest, OutputTokensOption, _options.OutputTokens, 1, ReplayEngineOptions.MaxOutputTokens, problems);
        var model = manifest.RecordedModel ?? manifest.EngineOptions.GetValueOrDefault(ModelOption);
        if (string.IsNullOrWhiteSpace(model))
        {
            problems.Add("it names no recorded model (set 'recordedModel' to a model of the recording, such as \"Meta-Llama-3_1-8B-Instruct\")");
        }

        if (problems.Count > 0)
        {
            throw Unavailable(id, string.Join("; ", problems));
        }

        var ignored = manifest.EngineOptions.Keys.Where(k => !KnownOptions.Contains(k, StringComparer.Ordinal)).ToList();
        if (ignored.Count > 0)
        {
            LogIgnoredOptions(_logger, id, string.Join(", ", ignored));
        }

        var source = manifest.ModelPath ?? _options.DataPath;
        if (string.IsNullOrWhiteSpace(source))
        {
            throw Unavailable(id, "it names no recorded outputs: set its 'modelPath' (or ReplayEngineOptions.DataPath) to mmlu_pro_29_models.jsonl.gz or its folder");
        }

        var recording = await RecordingAsync(id, source, cancellationToken).ConfigureAwait(false);
        if (!recording.Dataset.TryGetModelIndex(model!, out var slot))
        {
            throw Unavailable(id, $"the recording {recording.Path} has no model '{model}'; it has: {string.Join(", ", recording.Dataset.Models)}");
        }

        var cost = CostProfile(manifest, model!);
        var problemsWithCost = cost.Validate();
        if (problemsWithCost.Count > 0)
        {
            throw Unavailable(id, $"its size figures are invalid: {string.Join("; ", problemsWithCost)}");
        }

        var assumed = recording.TrainingMeanOutputTokens(slot, _options.CharsPerToken) ?? outputTokens;
        var engine = new ReplayEngine(
            manifest with { ModelPath = recording.Path },
            model!,
            recording,
            slot,
            _device,
            cost,
            timeScale,
            assumed,
            _options,
            _time);
        LogLoaded(_logger, id, model!, recording.Path, _device.Name, timeScale, assumed);
        return engine;
    }

    /// <summary>The shared recording at <paramref name="source"/>; a missing, unreadable or malformed one makes the expert unavailable.</summary>
    private async Task<ReplayRecording> RecordingAsync(string id, string source, CancellationToken cancellationToken)
    {
        try
        {
            return await _recordings.GetAsync(ReplayRecording.ResolveFile(source), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException ex)
        {
            throw Unavailable(id, ex.Message, ex);
        }
        catch (DatasetFormatException ex)
        {
            throw Unavailable(id, $"the recorded outputs at {source} are malformed: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw Unavailable(id, $"the recorded outputs at {source} cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The size figures the cost model needs: the manifest's, or, when it declares no parameter count,
    /// the catalogued size of the recorded model at the manifest's quantisation.
    /// </summary>
    private static ExpertCostProfile CostProfile(ExpertManifest manifest, string model)
    {
        if (manifest.ParameterCount <= 0 && manifest.ModelSizeBytes is null && RecordedModelCatalog.TryGet(model, out var catalogued))
        {
            return ExpertCostProfile.FromManifest(catalogued.ToManifest(manifest.Quantization)) with { ExpertId = manifest.Id };
        }

        return ExpertCostProfile.FromManifest(manifest);
    }

    private static double ReadDouble(ExpertManifest manifest, string key, double fallback, double min, double max, List<string> problems)
    {
        if (!manifest.EngineOptions.TryGetValue(key, out var text))
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < min || value > max)
        {
            problems.Add($"engine option '{key}' must be a number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, got \"{text}\"");
            return fallback;
        }

        return value;
    }

    private static int ReadInt(ExpertManifest manifest, string key, int fallback, int min, int max, List<string> problems)
    {
        if (!manifest.EngineOptions.TryGetValue(key, out var text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            problems.Add($"engine option '{key}' must be a whole number between {min} and {max}, got \"{text}\"");
            return fallback;
        }

        return value;
    }

    private static ExpertUnavailableException Unavailable(string id, string reason, Exception? inner = null)
        => new($"Expert '{id}' cannot be replayed: {reason}.", inner);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information,
        Message = "Replay expert '{ExpertId}' loaded: recorded model {Model} from {Path}, timed on {Device}, time scale {TimeScale}, {OutputTokens} output tokens where the recording has no length")]
    private static partial void LogLoaded(ILogger logger, string expertId, string model, string path, string device, double timeScale, int outputTokens);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Replay expert '{ExpertId}' could not be loaded: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string expertId, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Replay expert '{ExpertId}' has engine options the replay engine does not read: {Keys}")]
    private static partial void LogIgnoredOptions(ILogger logger, string expertId, string keys);
}
