using MoeMesh.Client;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Monitoring;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Tests.Monitoring;

[Collection(TwoSiloMeshCollection.Name)]
public sealed class MeshMonitorTests(TwoSiloMeshFixture mesh)
{
    [Fact]
    public async Task Finished_queries_appear_in_the_feed_with_their_runs()
    {
        var monitor = mesh.Cluster.Client.GetGrain<IMeshMonitorGrain>(0);
        var before = (await monitor.GetOverviewAsync(0)).LastSequence;

        var result = await mesh.Client.AskAsync("a question about algebra for the monitor", TwoSiloMeshFixture.SmallExperts());

        var decision = await Eventually(async () => (await monitor.GetDecisionsAfterAsync(before)).FirstOrDefault(d => d.QueryId == result.QueryId));
        Assert.Equal("a question about algebra for the monitor", decision.Excerpt);
        Assert.Equal("math-small", Assert.Single(decision.Runs).ExpertId);
        Assert.Equal(result.LatencyMs, decision.MeasuredLatencyMs);
        Assert.True(decision.Sequence > before);
    }

    [Fact]
    public async Task Both_silos_report_their_device_meter_and_memory()
    {
        var monitor = mesh.Cluster.Client.GetGrain<IMeshMonitorGrain>(0);
        await mesh.Client.AskAsync("algebra warms the math expert", TwoSiloMeshFixture.SmallExperts());

        var overview = await Eventually(async () =>
        {
            var o = await monitor.GetOverviewAsync();
            // The router records its decision after answering; wait for that too, not only for the silos.
            return o.Silos.Count == 2
                && o.Silos.Any(s => s.ResidentExperts.Count > 0)
                && o.Experts.Any(e => e.ExpertId == "math-small" && e.Runs > 0)
                && o.Samples.Any(s => s.Queries > 0) ? o : null;
        });

        Assert.Equal(["Jetson AGX Orin 64GB", "RTX 4090 desktop"], overview.Silos.Select(s => s.Device.Name).Order());
        Assert.All(overview.Silos, s => Assert.Equal("model", s.MeterKind.ToWireName()));
        Assert.All(overview.Silos, s => Assert.True(s.PowerWatts >= s.Device.IdlePowerWatts));
        Assert.Contains(overview.Silos, s => s.ModelMemoryUsedBytes > 0);
        Assert.Contains(overview.Experts, e => e.ExpertId == "math-small" && e.Runs > 0 && e.P50LatencyMs > 0);
        Assert.Equal(MeshMonitorGrainFacts.SampleCount, overview.Samples.Count);
        Assert.Contains(overview.Samples, s => s.Queries > 0);
    }

    private static async Task<T> Eventually<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met in 15 s");
            }

            await Task.Delay(100);
        }
    }
}

internal static class MeshMonitorGrainFacts
{
    public const int SampleCount = Grains.Monitoring.MeshMonitorGrain.SampleCount;
}
