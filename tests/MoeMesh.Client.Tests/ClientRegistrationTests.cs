using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

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
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());

        // A name that resolves nowhere: registering (and building) must not look it up.
        services.AddMoeMeshClient(o => o.Gateways = ["127.0.0.1:30005", "box-that-is-not-up.invalid:30000"]);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<MoeMeshClient>(provider.GetRequiredService<IMoeMeshClient>());
        Assert.IsType<MoeMeshChatClient>(provider.GetRequiredService<IChatClient>());
        Assert.Equal(["127.0.0.1:30005", "box-that-is-not-up.invalid:30000"], provider.GetRequiredService<IOptions<MoeMeshClientOptions>>().Value.Gateways);
    }

    [Fact]
    public void Options_are_bound_from_the_client_section_then_configured_in_code()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MoeMesh:Client:ClusterId"] = "lab",
            ["MoeMesh:Client:MaxQueryRetries"] = "3",
            ["MoeMesh:Client:Gateways:0"] = "10.0.0.9:30000",
        });
        builder.Services.AddMoeMeshClient(o => o.ServiceId = "svc");
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<MoeMeshClientOptions>>().Value;
        Assert.Equal("lab", options.ClusterId);
        Assert.Equal("svc", options.ServiceId);
        Assert.Equal(3, options.MaxQueryRetries);
        Assert.Equal(["10.0.0.9:30000"], options.Gateways);
    }

    [Fact]
    public async Task Bad_configuration_fails_at_start_naming_each_key()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MoeMesh:Client:MaxQueryRetries"] = "99",
            ["MoeMesh:Client:ClusterId"] = "",
            ["MoeMesh:Client:Gateways:0"] = "no-port",
            ["MoeMesh:Client:Tls:CaPath"] = "/nowhere/ca.pem",
        });
        builder.Services.AddMoeMeshClient();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("MaxQueryRetries must be between 0 and 10", error.Message);
        Assert.Contains("MoeMesh:Client:ClusterId must not be empty", error.Message);
        Assert.Contains("MoeMesh:Client:Gateways:0 Gateway 'no-port' is not of the form host:port", error.Message);
        Assert.Contains("MoeMesh:Tls:CertificatePath (or CertificateThumbprint) is required", error.Message);
    }
}
