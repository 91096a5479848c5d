using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Energy;
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
    TimeProvider time,
    ILogger<ExpertGrain> logger) : Grain, IExpertGrain
{
    /// <summary>How often a replica repeats its state to the catalog.</summary>
    internal static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(5);

    private ExpertReplica _replica;
    private ExpertManifest? _manifest;
    private Task<IExpertEngine>? _loading;
    private IExpertEngine? _engine;
    private ReplicaState _state = ReplicaState.Loading;
    private string? _error;
    private double _loadMs;
    private bool _loadCostPending;
    private int _active;
    private long _served;
    private DateTimeOffset _lastUsed = DateTimeOffset.UtcNow;
    private ExpertRuns? _runs;

    private ExpertRuns Runs => _runs ??= new ExpertRuns(cancelled, time);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _replica = ExpertReplica.Parse(this.GetPrimaryKeyString());
        if (!manifests.TryGet(_replica.ExpertId, out var manifest))
        {
            // Placement only picks silos that publish the manifest, so this means a stale or forged key.
            throw new ExpertUnavailableException($"Silo {silo.Name} has no manifest for expert '{_replica.ExpertId}'.");
        }

        _manifest = manifest;
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

        using var activity = MoeMeshInstrumentation.Source.StartActivity("moemesh.generate");
        activity?.SetTag("moemesh.expert", _replica.ExpertId);
        activity?.SetTag("moemesh.silo", silo.Name);
        _active++;
        _lastUsed = DateTimeOffset.UtcNow;
        residency.BeginUse(_replica);
        using var energyScope = energy.Begin();
        try
        {
            await foreach (var chunk in engine.GenerateAsync(request, token))
            {
                if (chunk.Metrics is { } metrics)
                {
                    _served++;
                    var expertTag = new KeyValuePair<string, object?>("expert", _replica.ExpertId);
                    MoeMeshInstrumentation.TokensGenerated.Add(metrics.GeneratedTokens, expertTag);
                    if (metrics.DecodeTokensPerSecond > 0)
                    {
                        MoeMeshInstrumentation.DecodeSpeed.Record(metrics.DecodeTokensPerSecond, expertTag);
                    }

                    activity?.SetTag("moemesh.tokens", metrics.GeneratedTokens);
                    var measured = energyScope.Complete();
                    var joules = metrics.EnergyJoules ?? measured;
                    yield return new ExpertChunk
                    {
                        Text = chunk.Text,
                        Report = new ExpertReport
                        {
                            Replica = _replica,
                            Silo = silo.Name,
                            DeviceName = silo.Device.Name,
                            Metrics = metrics,
                            EnergyJoules = joules,
                            EnergyMeter = metrics.EnergyJoules is null ? energy.Meter.Kind : WireNames.TryParse<MeterKind>(metrics.EnergySource, out var source) ? source : MeterKind.Engine,
                            LoadMs = loadMs,
                        },
                    };
                }
                else if (chunk.Text.Length > 0)
                {
                    yield return new ExpertChunk { Text = chunk.Text };
                }
            }
        }
        finally
        {
            _active--;
            _lastUsed = DateTimeOffset.UtcNow;
            residency.EndUse(_replica);
        }
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
            var engine = await provider.LoadAsync(manifest);
            residency.Loaded(_replica, engine.ResidentBytes);
            MoeMeshInstrumentation.ModelLoads.Add(1, new KeyValuePair<string, object?>("expert", _replica.ExpertId));
            _engine = engine;
            _loadMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
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

    private ReplicaStatus Status() => new()
    {
        Replica = _replica,
        Silo = silo.Name,
        State = _state,
        ResidentBytes = _engine?.ResidentBytes ?? 0,
        Error = _error,
        ActiveRequests = _active + (_runs?.Waiting ?? 0),
        ServedRequests = _served,
        LastUsed = _lastUsed,
        LoadMs = _loadMs,
        ReportedAt = DateTimeOffset.UtcNow,
    };

    private void ReportState()
        => GrainFactory.GetGrain<ICatalogGrain>(0).ReportReplicaAsync(Status()).Ignore();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Expert {Replica}: cancel of run {RunId} (running: {WasRunning})")]
    private static partial void LogCancelRequested(ILogger logger, string replica, string runId, bool wasRunning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading expert {Replica} with {Engine} from {ModelPath}")]
    private static partial void LogLoading(ILogger logger, string replica, string engine, string modelPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expert {Replica} loaded in {LoadMs:0} ms ({ResidentBytes} bytes resident)")]
    private static partial void LogLoaded(ILogger logger, string replica, double loadMs, long residentBytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Expert {Replica} failed to load; the silo keeps serving its other experts")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string replica);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expert {Replica} unloaded ({Reason})")]
    private static partial void LogUnloaded(ILogger logger, string replica, string reason);
}
