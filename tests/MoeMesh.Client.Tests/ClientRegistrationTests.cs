using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace MoeMesh.Client.Tests;

public sealed class ClientRegistrationTests
{
    [Fact]
    public void Gateways_parse_and_default_to_the_local_mesh()
    {
        Assert.Equal("127.0.0.1:30000", MoeMeshClientServiceCollectionExtensions.ParseGateways([])[0].ToString());
        var parsed = MoeMeshClientServiceCollectionExtensions.ParseGateways(["10.0.0.5:30001", "localhost:30002"]);
        Assert.Equal(30001, parsed[0].Port);
        Assert.Equal(30002, parsed[1].Port);
    }

    [Theory]
    [InlineData("no-port")]
    [InlineData("host:0")]
    [InlineData("host:99999")]
    public void Bad_gateways_are_rejected(string gateway)
    {
        var error = Assert.Throws<ArgumentException>(() => MoeMeshClientServiceCollectionExtensions.ParseGateways([gateway]));

        Assert.Contains(gateway, error.Message);
    }

    [Fact]
    public void AddMoeMeshClient_registers_the_sdk_and_chat_client()
    {
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddMoeMeshClient(o => o.Gateways = ["127.0.0.1:30005"]);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<MoeMeshClient>(provider.GetRequiredService<IMoeMeshClient>());
        Assert.IsType<MoeMeshChatClient>(provider.GetRequiredService<IChatClient>());
    }
}
