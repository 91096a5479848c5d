using Microsoft.Extensions.Logging;
using MoeMesh.Grains.Energy;
using MoeMesh.Grains.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Residency;
using MoeMesh.Monitoring;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Monitoring;

/// <summary>Reports this silo's power, memory and resident experts to the mesh monitor every couple of seconds.</summary>
internal sealed partial class SiloTelemetryReporter(
    IGrainFactory grains,
    SiloIdentity silo,
    EnergyAccountant energy,
    EnergyMeterChoice meterChoice,
    ExpertResidency residency,
    CancelledGenerations cancelled,
    TimeProvider time,
    ILogger<SiloTelemetryReporter> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private bool _warned;

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(SiloTelemetryReporter), ServiceLifecycleStage.Active, Start, StopAsync);

    public void Dispose() => _stopping.Dispose();

    /// <summary>The silo's state now.</summary>
    public SiloTelemetry Current() => new()
    {
        Silo = silo.Name,
        Device = silo.Device,
        At = time.GetUtcNow(),
        PowerWatts = energy.Meter.ReadWatts(),
        EnergyJoules = energy.Meter.ReadJoules(),
        MeterKind = energy.Meter.Kind,
        MeterSource = energy.Meter.Source,
        ModelMemoryUsedBytes = residency.UsedBytes,
        ModelMemoryBudgetBytes = residency.BudgetBytes,
        ResidentExperts = residency.Snapshot().Where(m => !m.Loading).Select(m => m.Replica.GrainKey).ToList(),
        ActiveGenerations = energy.ActiveGenerations,
        Loads = residency.Loads,
        Evictions = residency.Evictions,
        CancelledGenerationsRunning = cancelled.Running,
    };

    private Task Start(CancellationToken cancellationToken)
    {
        LogMeter(logger, meterChoice.Meter.Kind.ToWireName(), meterChoice.Meter.Source, meterChoice.Skipped.Count == 0 ? "none" : string.Join("; ", meterChoice.Skipped));
        _loop = LoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is { } loop)
        {
            await loop.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await grains.GetGrain<IMeshMonitorGrain>(0).ReportSiloAsync(Current());
                _warned = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (!_warned)
                {
                    LogReportFailed(logger, ex);
                    _warned = true;
                }
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Energy meter: {Kind} ({Source}); not used: {Skipped}")]
    private static partial void LogMeter(ILogger logger, string kind, string source, string skipped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report silo telemetry to the mesh monitor; retrying")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
