using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Mixture-of-Experts model loader.</summary>
public static class MoeServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="OnnxMoeModelLoader"/> as the <see cref="IMoeModelLoader"/>, with
    /// <see cref="MoeExecutionOptions"/> validated when the host starts.
    /// </summary>
    public static IServiceCollection AddMoeModels(this IServiceCollection services, Action<MoeExecutionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<MoeExecutionOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MoeExecutionOptions>, MoeExecutionOptionsValidator>());
        services.TryAddSingleton<IMoeModelLoader>(sp => new OnnxMoeModelLoader(sp.GetRequiredService<IOptions<MoeExecutionOptions>>().Value));
        return services;
    }
}
