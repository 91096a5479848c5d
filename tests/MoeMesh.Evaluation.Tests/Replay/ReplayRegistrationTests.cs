using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Evaluation.Tests.Replay;

public sealed class ReplayRegistrationTests
{
    [Fact]
    public void A_silo_without_the_switch_gets_no_replay_engine()
    {
        var services = new ServiceCollection();
        var added = services.AddReplayEngineIfEnabled(Configuration(new Dictionary<string, string?> { ["MoeMesh:Replay:DataPath"] = "/nowhere" }));

        Assert.False(added);
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IExpertEngineProvider));
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ReplayEngineProvider));
    }

    [Fact]
    public void The_switch_adds_the_replay_engine_bound_to_its_section()
    {
        var services = new ServiceCollection();
        var added = services.AddReplayEngineIfEnabled(Configuration(new Dictionary<string, string?>
        {
            [ReplayServiceCollectionExtensions.EnabledSetting] = "true",
            ["MoeMesh:Replay:TimeScale"] = "0.25",
        }));

        Assert.True(added);
        using var provider = services.BuildServiceProvider();
        var engines = provider.GetServices<IExpertEngineProvider>().ToList();
        Assert.Single(engines);
        Assert.IsType<ReplayEngineProvider>(engines[0]);
        Assert.Equal(0.25, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ReplayEngineOptions>>().Value.TimeScale);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values)
        => new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
