using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeMesh.Grains.Hosting.Clustering;
using Orleans.Configuration;
using Orleans.Hosting;

namespace MoeMesh.Grains.Tests.Hosting.Clustering;

/// <summary>The edge-LAN failure detection reaches Orleans, and a box whose link is cut can be voted out.</summary>
public sealed class MembershipTuningTests
{
    [Fact]
    public void The_defaults_are_usable_and_reach_Orleans()
    {
        var tuning = new MembershipTuningOptions();
        Assert.Empty(tuning.Problems());

        var options = Apply(tuning);

        Assert.Equal(TimeSpan.FromSeconds(2), options.ProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MaxProbeTimeout);
        Assert.Equal(3, options.NumMissedProbesLimit);
        Assert.Equal(2, options.NumVotesForDeathDeclaration);
        Assert.False(options.EnableIndirectProbes);
    }

    [Fact]
    public void A_cut_link_is_suspected_within_a_partition_of_20_seconds()
    {
        // Orleans withholds a vote while the connection to a silo received anything within
        // MaxProbeTimeout × NumMissedProbesLimit; a link cut for 20 s must fall outside that window.
        var options = Apply(new MembershipTuningOptions());

        Assert.True(options.MaxProbeTimeout * options.NumMissedProbesLimit < TimeSpan.FromSeconds(10));
        Assert.True(options.DeathVoteExpirationTimeout > options.MaxProbeTimeout * options.NumMissedProbesLimit);
    }

    [Fact]
    public void A_maximum_probe_timeout_below_the_probe_timeout_is_a_problem()
    {
        var problems = new MembershipTuningOptions { ProbeTimeout = TimeSpan.FromSeconds(3), MaxProbeTimeout = TimeSpan.FromSeconds(1) }.Problems();

        Assert.Contains(problems, p => p.Contains("MoeMesh:Membership:MaxProbeTimeout", StringComparison.Ordinal));
    }

    private static ClusterMembershipOptions Apply(MembershipTuningOptions tuning)
    {
        var services = new ServiceCollection();
        MembershipTuning.Configure(new SiloBuilderStub(services), tuning);
        return services.BuildServiceProvider().GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
    }

    private sealed class SiloBuilderStub(IServiceCollection services) : ISiloBuilder
    {
        public IServiceCollection Services { get; } = services;

        public Microsoft.Extensions.Configuration.IConfiguration Configuration { get; } = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
    }
}
