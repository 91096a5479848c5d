using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeMesh.Devices;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Inference.Engines;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the replay engine.</summary>
public static class ReplayServiceCollectionExtensions
{
    /// <summary>The configuration section of the replay engine's settings.</summary>
    public const string SectionName = "MoeMesh:Replay";

    /// <summary>
    /// The switch that puts the replay engine on a silo (<c>MoeMesh:Replay:Enabled=true</c>). Production
    /// silos leave it off: the replay engine answers only recorded benchmark questions, so only the
    /// meshes that <c>moemesh bench replay</c> and the fault lab bring up ask for it.
    /// </summary>
    public const string EnabledSetting = SectionName + ":Enabled";

    /// <summary>
    /// Adds the replay engine, bound to <see cref="SectionName"/>, when <paramref name="configuration"/>
    /// turns <see cref="EnabledSetting"/> on; otherwise adds nothing. Returns whether it was added.
    /// </summary>
    public static bool AddReplayEngineIfEnabled(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (!configuration.GetValue(EnabledSetting, false))
        {
            return false;
        }

        services.AddReplayEngine(o => configuration.GetSection(SectionName).Bind(o));
        return true;
    }

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
