using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Grains.Tests.TestDoubles;

namespace MoeMesh.Grains.Tests.Placement;

[Collection(TwoSiloMeshCollection.Name)]
public sealed class DeviceFitPlacementTests(TwoSiloMeshFixture mesh)
{
    [Fact]
    public async Task Expert_that_fits_only_the_larger_device_lands_there()
    {
        var device = await mesh.DeviceOfReplicaAsync(TwoSiloMeshFixture.Big.Id, 0);

        Assert.Equal("Jetson AGX Orin 64GB", device);
    }

    [Fact]
    public async Task Device_kind_constraint_is_honoured()
    {
        var device = await mesh.DeviceOfReplicaAsync(TwoSiloMeshFixture.GpuOnlyCode.Id, 0);

        Assert.Equal("RTX 4090 desktop", device);
    }

    [Fact]
    public async Task Replicas_of_one_expert_spread_over_silos()
    {
        var first = await mesh.DeviceOfReplicaAsync(TwoSiloMeshFixture.GeneralSmall.Id, 0);
        var second = await mesh.DeviceOfReplicaAsync(TwoSiloMeshFixture.GeneralSmall.Id, 1);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Expert_no_silo_can_hold_fails_with_a_clear_error_not_a_hang()
    {
        var grain = mesh.Cluster.Client.GetGrain<IExpertGrain>(new ExpertReplica(TwoSiloMeshFixture.Huge.Id, 0).GrainKey);

        var error = await Assert.ThrowsAsync<ExpertUnavailableException>(() => grain.WarmUpAsync().WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains("No silo can host expert 'huge-200b'", error.Message);
        Assert.Contains("needs 120 GiB", error.Message);
    }
}
