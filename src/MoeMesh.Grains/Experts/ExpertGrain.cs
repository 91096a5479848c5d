using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Energy;
using MoeMesh.Grains.Experts.Engines;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Placement;
using MoeMesh.Grains.Residency;
using MoeMesh.Grains.Telemetry;
using MoeMesh.Inference.Engines;
using Orleans.Concurrency;
using Orleans.Placement;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Experts;

/// <summary>
/// One replica of one expert: the activation owns the loaded model. Reentrant so concurrent
/// generations reach the engine together (it batches them); the engine keeps contexts safe.
/// The silo's concerns (tracing, calibration, deadlines, residency, energy) wrap the engine as
/// decorators; once loaded, the replica probes its engine and publishes the calibration.
/// </summary>
[DeviceFitPlacement]
[Immovable]
[Reentrant]
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed partial class ExpertGrain(
    LocalExpertManifests manifests,
    ExpertEngineRegistry engines,
    SiloIdentity silo,
    EnergyAccountant energy,
    ExpertResidency residency,
    CancelledGenerations cancelled,
    MoeMeshSiloConfiguration configuration,
    CalibrationGate calibrationGate,
    TimeProvider time,
    ILogger<ExpertGrain> logger) : Grain, IExpertGrain
{
    /// <summary>How often a replica repeats its state to the catalog.</summary>
    internal static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long a finished run's report waits, so runs that finish meanwhile share one message to the catalog.</summary>
    internal static readonly TimeSpan RunReportDelay = TimeSpan.FromMilliseconds(200);

    private ExpertReplica _replica;
    private ExpertManifest? _manifest;
    private Task<IExpertEngine>? _loading;
    private IExpertEngine? _engine;
    private ReplicaState _state = ReplicaState.Loading;
    private string? _error;
    private double _loadMs;
    private bool _loadCostPending;
    private ResidencyTrackingExpertEngine? _tracking;
    private CalibratingExpertEngine? _calibration;
    private ExpertRuns? _runs;
    private DateTimeOffset _activatedAt;
    private ITimer? _runReport;
    private ICatalogGrain? _catalog;
    private int _runReportPending;

    private ExpertRuns Runs => _runs ??= new ExpertRuns(cancelled, time);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _replica = ExpertReplica.Parse(this.GetPrimaryKeyString());
        _activatedAt = time.GetUtcNow();
        if (!manifests.TryGet(_replica.ExpertId, out var manifest))
        {
            // Placement only picks silos that publish the manifest, so this means a stale or forged key.
            throw new ExpertUnavailableException($"Silo {silo.Name} has no manifest for expert '{_replica.ExpertId}'.");
        }

        _manifest = manifest;

        // Taken here: a finished run's report is sent from a timer, off the activation's thread.
        _catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        ReportState();

        // The catalog keeps its map in memory; re-reporting lets a re-activated catalog catch up.
        this.RegisterGrainTimer(() =>
        {
            ReportState();
            return Task.CompletedTask;
        }, ReportInterval, ReportInterval);

        // Loading may take minutes for large models; it runs in the background so activation never times out.
        _loading = LoadAsync(manifest);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_engine is { } engine)
        {
            _engine = null;
            await engine.DisposeAsync();
            LogUnloaded(logger, _replica.GrainKey, reason.Description);
        }

        residency.Release(_replica);
        _runReport?.Dispose();

        _state = ReplicaState.Unloaded;
        ReportState();
    }

    public async Task<ReplicaStatus> WarmUpAsync()
    {
        try
        {
            await EnsureLoadedAsync(CancellationToken.None);
        }
        catch (ExpertUnavailableException)
        {
            // The status below carries the reason.
        }

        return Status();
    }

    public Task<ReplicaStatus> GetStatusAsync() => Task.FromResult(Status());

    public Task<bool> CancelAsync(string runId)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var wasRunning = Runs.Cancel(runId);
        LogCancelRequested(logger, _replica.GrainKey, runId, wasRunning);
        return Task.FromResult(wasRunning);
    }

    public async IAsyncEnumerable<ExpertChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        InvalidRequestException.ThrowIfAny(request.Validate(), "generation request");

        // The run's token: the call's own, or an explicit CancelAsync, whichever comes first, in every
        // state below (waiting for the model, prefill, decode).
        var received = time.GetTimestamp();
        using var run = Runs.Begin(request.RunId, cancellationToken);
        var token = run.Token;
        token.ThrowIfCancellationRequested();
        IExpertEngine engine;
        using (Runs.Wait())
        {
            engine = await EnsureLoadedAsync(token);
        }

        var loadMs = _loadCostPending ? _loadMs : 0;
        _loadCostPending = false;
        if (request.TimeBudgetMs is { } budget)
        {
            // The budget counts from arrival: time spent waiting for the model is already gone.
            request = request with { TimeBudgetMs = Math.Max(1, budget - time.GetElapsedTime(received).TotalMilliseconds) };
        }

        await foreach (var chunk in engine.GenerateAsync(request, token))
        {
            if (chunk.Metrics is not { } metrics)
            {
                if (chunk.Text.Length > 0)
                {
                    yield return new ExpertChunk { Text = chunk.Text };
                }

                continue;
            }

            yield return new ExpertChunk
            {
                Text = chunk.Text,
                Report = new ExpertReport
                {
                    Replica = _replica,
                    Silo = silo.Name,
                    DeviceName = silo.Device.Name,
                    Metrics = metrics,
                    EnergyJoules = metrics.EnergyJoules ?? 0,
                    EnergyMeter = WireNames.TryParse<MeterKind>(metrics.EnergySource, out var source) ? source : energy.Meter.Kind,
                    LoadMs = loadMs,
                },
            };
        }

        // The run has left the engine and its calibration has learned from it: publish both, with
        // the other runs that finish within a moment (one message per burst, not one per run).
        ReportSoon();
    }

    private async Task<IExpertEngine> EnsureLoadedAsync(CancellationToken cancellationToken)
    {
        if (_engine is { } loaded)
        {
            return loaded;
        }

        var loading = _loading ?? throw new ExpertUnavailableException($"Expert replica '{_replica}' is not activated.");
        return await loading.WaitAsync(cancellationToken);
    }

    private async Task<IExpertEngine> LoadAsync(ExpertManifest manifest)
    {
        var started = Stopwatch.GetTimestamp();
        LogLoading(logger, _replica.GrainKey, manifest.Engine, manifest.ModelPath ?? "(none)");
        try
        {
            var provider = engines.For(manifest);
            await residency.ReserveAsync(_replica, manifest.WeightBytes, manifest.Pinned, GrainContext);
            var loaded = await provider.LoadAsync(manifest);
            residency.Loaded(_replica, loaded.ResidentBytes);
            MoeMeshInstrumentation.ModelLoads.Add(1, new KeyValuePair<string, object?>("expert", _replica.ExpertId));
            var engine = Compose(loaded);
            _loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await ProbeAsync();
            _engine = engine;
            _loadCostPending = true;
            _state = ReplicaState.Ready;
            LogLoaded(logger, _replica.GrainKey, _loadMs, engine.ResidentBytes);
            ReportState();
            return engine;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            residency.Release(_replica);
            _state = ReplicaState.Failed;
            _error = ex.Message;
            LogLoadFailed(logger, ex, _replica.GrainKey);
            ReportState();

            // Let the next call retry with a fresh activation (the file may have been fixed).
            DeactivateOnIdle();
            throw ex as ExpertUnavailableException
                ?? new ExpertUnavailableException($"Expert '{_replica.ExpertId}' failed to load on silo {silo.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>The engine wrapped in the silo's concerns, outermost first.</summary>
    private IExpertEngine Compose(IExpertEngine loaded)
    {
        var engine = loaded.AsBuilder()
            .UseInstrumentation(silo.Name)
            .UseCalibration()
            .UseDeadline(() => _calibration?.Current, () => _tracking?.Active ?? 0, time)
            .UseResidency(residency, _replica, time)
            .UseEnergyAccounting(energy)
            .Build();
        _calibration = engine.GetService<CalibratingExpertEngine>();
        _tracking = engine.GetService<ResidencyTrackingExpertEngine>();
        return engine;
    }

    /// <summary>Measures the engine before the replica is ready; a failed probe leaves it to calibrate from its runs.</summary>
    private async Task ProbeAsync()
    {
        var settings = configuration.Options.Experts.Calibration;
        if (!settings.ProbeAtLoad || _calibration is null)
        {
            return;
        }

        try
        {
            // One probe at a time on a silo: replicas loading together would otherwise measure each other.
            using var turn = await calibrationGate.EnterAsync();
            var probe = new CalibrationProbe { PromptTokens = settings.ProbePromptTokens, OutputTokens = settings.ProbeOutputTokens };
            if (await _calibration.ProbeAsync(probe, energy.Meter.Kind.ToWireName()) is { } measured)
            {
                LogCalibrated(logger, _replica.GrainKey, measured.PrefillTokensPerSecond, measured.DecodeTokensPerSecond, measured.OverheadMs, measured.BusyWatts);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProbeFailed(logger, ex, _replica.GrainKey);
        }
    }

    private ReplicaStatus Status() => new()
    {
        Replica = _replica,
        Silo = silo.Name,
        State = _state,
        ResidentBytes = _engine?.ResidentBytes ?? 0,
        Error = _error,
        ActiveRequests = (_tracking?.Active ?? 0) + (_runs?.Waiting ?? 0),
        ServedRequests = _tracking?.Served ?? 0,
        LastUsed = _tracking?.LastUsed ?? _activatedAt,
        LoadMs = _loadMs,
        ReportedAt = time.GetUtcNow(),
        Calibration = _calibration?.Current,
    };

    private void ReportState()
        => (_catalog ??= GrainFactory.GetGrain<ICatalogGrain>(0)).ReportReplicaAsync(Status()).Ignore();

    private void ReportSoon()
    {
        if (Interlocked.Exchange(ref _runReportPending, 1) == 0)
        {
            _runReport ??= time.CreateTimer(
                static state =>
                {
                    var grain = (ExpertGrain)state!;
                    Volatile.Write(ref grain._runReportPending, 0);
                    grain.ReportState();
                },
                this,
                Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
            _runReport.Change(RunReportDelay, Timeout.InfiniteTimeSpan);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Expert {Replica}: cancel of run {RunId} (running: {WasRunning})")]
    private static partial void LogCancelRequested(ILogger logger, string replica, string runId, bool wasRunning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading expert {Replica} with {Engine} from {ModelPath}")]
    private static partial void LogLoading(ILogger logger, string replica, string engine, string modelPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expert {Replica} loaded in {LoadMs:0} ms ({ResidentBytes} bytes resident)")]
    private static partial void LogLoaded(ILogger logger, string replica, double loadMs, long residentBytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Expert {Replica} failed to load; the silo keeps serving its other experts")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string replica);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expert {Replica} calibrated: prefill {PrefillRate:0} tokens/s, decode {DecodeRate:0} tokens/s, overhead {OverheadMs:0.0} ms, {BusyWatts:0.#} W busy")]
    private static partial void LogCalibrated(ILogger logger, string replica, double prefillRate, double decodeRate, double overheadMs, double busyWatts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expert {Replica}: the calibration probe failed; the replica calibrates from its runs")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception, string replica);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expert {Replica} unloaded ({Reason})")]
    private static partial void LogUnloaded(ILogger logger, string replica, string reason);
}
