using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Grains.Moe;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.Grains.Moe.Engine;
using MoeMesh.Inference.Engines;

namespace Microsoft.Extensions.Hosting;

/// <summary>Hosting for the token path: expert shard placement and this silo's Mixture-of-Experts models.</summary>
public static class MoeTokenPathSiloBuilderExtensions
{
    /// <summary>
    /// Adds expert shard placement and the MoE model registry. The model loader itself
    /// (<see cref="MoeMesh.Inference.Moe.IMoeModelLoader"/>) is registered by the inference layer.
    /// </summary>
    public static ISiloBuilder AddMoeTokenPath(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddPlacementDirector<MoeShardPlacement, MoeShardPlacementDirector>();
        silo.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        silo.Services.AddSingleton<MoeModelFiles>();
        silo.Services.AddSingleton<LocalShardRunners>();
        silo.Services.AddSingleton<IExpertEngineProvider, MoeExpertEngineProvider>();
        silo.Services.AddSingleton<ActivationDataPlaneServer>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ActivationDataPlaneServer>());
        return silo;
    }
}
