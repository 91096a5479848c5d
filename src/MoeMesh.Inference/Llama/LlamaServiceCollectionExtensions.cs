using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Llama;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the llama.cpp engine.</summary>
public static class LlamaServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="LlamaEngineProvider"/> as an <see cref="IExpertEngineProvider"/> for the
    /// "llama.cpp" engine, with <see cref="LlamaEngineOptions"/> validated when the host starts.
    /// </summary>
    public static IServiceCollection AddLlamaCppEngine(this IServiceCollection services, Action<LlamaEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<LlamaEngineOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlamaEngineOptions>, LlamaEngineOptionsValidator>());
        services.TryAddSingleton<LlamaEngineProvider>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpertEngineProvider, LlamaEngineProvider>(sp => sp.GetRequiredService<LlamaEngineProvider>()));
        return services;
    }

    /// <summary>
    /// Adds the llama.cpp engine with <see cref="LlamaEngineOptions"/> bound from the configuration
    /// section at <paramref name="configSectionPath"/> (for example <c>MoeMesh:Llama</c>), validated when the host starts.
    /// </summary>
    public static IServiceCollection AddLlamaCppEngine(this IServiceCollection services, string configSectionPath)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(configSectionPath);
        services.AddOptions<LlamaEngineOptions>().BindConfiguration(configSectionPath);
        return services.AddLlamaCppEngine();
    }
}
