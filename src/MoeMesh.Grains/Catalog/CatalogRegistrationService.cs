using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Grains.Experts;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Grains.Catalog;

/// <summary>
/// Registers this silo with the catalog once the silo is active, then again periodically so the
/// catalog survives being re-activated on another silo.
/// </summary>
internal sealed partial class CatalogRegistrationService(
    IGrainFactory grains,
    SiloIdentity silo,
    LocalExpertManifests manifests,
    ModelMemoryBudget budget,
    ILocalSiloDetails details,
    ILogger<CatalogRegistrationService> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(CatalogRegistrationService), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    public void Dispose() => _stopping.Dispose();

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await RegisterAsync();
        _loop = RefreshLoopAsync(_stopping.Token);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is { } loop)
        {
            await loop.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await RegisterAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRefreshFailed(logger, ex);
            }
        }
    }

    private Task RegisterAsync()
        => grains.GetGrain<ICatalogGrain>(0).RegisterSiloAsync(new SiloRegistration
        {
            Silo = silo.Name,
            Device = silo.Device,
            Experts = manifests.All.ToList(),
            ModelMemoryBudgetBytes = budget.Bytes,
            Endpoint = details.GatewayAddress?.Endpoint.ToString(),
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh this silo's catalog registration; retrying")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
