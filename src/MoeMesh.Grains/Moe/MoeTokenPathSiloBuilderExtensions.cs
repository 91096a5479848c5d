using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Moe;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.Grains.Moe.Engine;
using MoeMesh.Inference.Engines;
using MoeMesh.Security;
using MoeMesh.Inference.Moe.Execution;

namespace Microsoft.Extensions.Hosting;

/// <summary>Hosting for the token path: expert shard placement and this silo's Mixture-of-Experts models.</summary>
public static class MoeTokenPathSiloBuilderExtensions
{
    /// <summary>
    /// Adds expert shard placement, the MoE model registry and the ONNX Runtime model loader
    /// (options from <c>MoeMesh:Moe</c>). A loader registered before this call is kept, and one
    /// registered after it replaces this one, so hosts and tests can bring their own.
    /// </summary>
    public static ISiloBuilder AddMoeTokenPath(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddPlacementDirector<MoeShardPlacement, MoeShardPlacementDirector>();
        silo.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        silo.Services.AddMoeModels();
        silo.Services.AddOptions<MoeExecutionOptions>().BindConfiguration($"{MoeMeshSiloOptions.SectionName}:Moe");
        silo.Services.AddSingleton<MoeModelFiles>();
        silo.Services.AddSingleton<LocalShardRunners>();
        silo.Services.AddSingleton<IExpertEngineProvider, MoeExpertEngineProvider>();
        silo.Services.AddSingleton(sp => sp.GetService<MeshCredentials>() is { } credentials
            ? new DataPlaneSecurity(credentials, sp.GetRequiredService<MeshTlsOptions>().HandshakeTimeout, sp.GetService<TimeProvider>() ?? TimeProvider.System)
            : DataPlaneSecurity.Plaintext);
        silo.Services.AddSingleton<ActivationDataPlaneServer>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ActivationDataPlaneServer>());
        return silo;
    }
}
