using MoeMesh.Experts;
using Orleans.Concurrency;

namespace MoeMesh.Catalog;

/// <summary>
/// The mesh's directory: which experts exist, their manifests, which silos may host them and
/// where their replicas run. One activation, key 0.
/// </summary>
public interface ICatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Records a replica's state; called by expert grains as they load and unload.</summary>
    [OneWay]
    Task ReportReplicaAsync(ReplicaStatus status);

    /// <summary>The catalog as it stands, with silo liveness taken from the cluster membership.</summary>
    Task<CatalogSnapshot> GetSnapshotAsync();
}
