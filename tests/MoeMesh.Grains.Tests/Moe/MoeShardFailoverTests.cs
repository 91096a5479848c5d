using MoeMesh.TokenPath;
using Xunit.Abstractions;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>The silo holding some expert shards dies in the middle of a generation.</summary>
public sealed class MoeShardFailoverTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [7, 1, 22, 40, 13];

    [Theory]
    [InlineData(1, MoeFrameTransport.TcpStream)]
    [InlineData(2, MoeFrameTransport.GrainCall)]
    public async Task Killing_a_shard_silo_mid_generation_keeps_the_greedy_output(int replicas, MoeFrameTransport transport)
    {
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 3, replicas: replicas);
        var expected = mesh.Loader.GenerateLocally(mesh.ModelPath, Prompt, 10);
        var before = await mesh.ShardsAsync(replicas);
        var victim = mesh.Cluster.Silos[1];
        var victimName = victim.SiloAddress.ToParsableString();
        Assert.Contains(before, s => s.Silo == victimName);

        mesh.Loader.Probe.PauseAtStep = 4;
        var generation = mesh.Backbone("failover").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = Prompt, MaxTokens = 10, Execution = new MoeExecutionOptions { Transport = transport },
        });
        await mesh.Loader.Probe.Paused.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await mesh.Cluster.KillSiloAsync(victim);
        mesh.Loader.Probe.Release();
        var result = await generation.WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(expected, result.Tokens);
        Assert.True(result.Deviations.IsExact);
        Assert.NotEmpty(result.Recoveries);
        Assert.All(result.Recoveries, r => Assert.True(r.RecoveryTime > TimeSpan.Zero));
        var after = await Task.WhenAll(result.Recoveries.Select(r => mesh.PrimaryGrains.GetGrain<IExpertShardGrain>(r.ServedBy.GrainKey).WarmUpAsync()));
        Assert.DoesNotContain(after, s => s.Silo == victimName);
        foreach (var recovery in result.Recoveries)
        {
            output.WriteLine($"{recovery.Lost} → {recovery.ServedBy} in {recovery.RecoveryTime.TotalMilliseconds:0} ms ({recovery.Error})");
        }
    }
}
