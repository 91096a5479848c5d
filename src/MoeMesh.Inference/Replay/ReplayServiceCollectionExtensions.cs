using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeMesh.Devices;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Replay;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the replay engine.</summary>
public static class ReplayServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ReplayEngineProvider"/> as an <see cref="IExpertEngineProvider"/> for the
    /// "replay" engine, with <see cref="ReplayEngineOptions"/> validated when the host starts, and the
    /// process-wide cache of parsed recordings. Replayed runs are timed for the
    /// <see cref="DeviceProfile"/> registered in the container (a MoeMesh silo registers its own).
    /// </summary>
    public static IServiceCollection AddReplayEngine(this IServiceCollection services, Action<ReplayEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<ReplayEngineOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplayEngineOptions>, ReplayEngineOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReplayRecordings>();
        services.TryAddSingleton(sp => new ReplayEngineProvider(
            sp.GetRequiredService<IOptions<ReplayEngineOptions>>(),
            sp.GetRequiredService<ReplayRecordings>(),
            sp.GetService<DeviceProfile>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<Logging.ILogger<ReplayEngineProvider>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpertEngineProvider, ReplayEngineProvider>(sp => sp.GetRequiredService<ReplayEngineProvider>()));
        return services;
    }
}
