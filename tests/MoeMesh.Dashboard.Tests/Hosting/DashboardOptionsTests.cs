using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using MoeMesh.Dashboard.Hosting;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Dashboard.Tests.Hosting;

public sealed class DashboardOptionsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080")]
    [InlineData("http://localhost:5080/", "http://127.0.0.1:5080")]
    [InlineData("http://*:80", "http://0.0.0.0:80")]
    [InlineData("http://+:8080", "http://0.0.0.0:8080")]
    [InlineData("https://10.0.0.2:443", "https://10.0.0.2:443")]
    [InlineData("http://[::1]:5080", "http://[::1]:5080")]
    [InlineData("http://127.0.0.1:0", "http://127.0.0.1:0")]
    public void Listen_addresses_parse(string url, string expected)
    {
        Assert.True(ListenAddress.TryParse(url, out var address, out var error), error);
        Assert.Equal(expected, address.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1:5080")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://example.com:80")]
    [InlineData("http://127.0.0.1:5080/dashboard")]
    public void Bad_listen_addresses_are_refused_with_a_reason(string url)
    {
        Assert.False(ListenAddress.TryParse(url, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Every_bad_option_is_reported_naming_its_key()
    {
        var options = new MoeMeshDashboardOptions
        {
            Urls = ["http://127.0.0.1:5080", "gopher://x:1", "https://0.0.0.0:443"],
            ApiKeys = ["short", "a key with spaces in it"],
            MaxRequestBodyBytes = 10,
            LiveIntervalMs = 5,
            RecentDecisions = -1,
        };

        var problems = options.Validate();

        Assert.Contains(problems, p => p.Contains("MoeMesh:Dashboard:Urls:1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("MoeMesh:Dashboard:Urls:2", StringComparison.Ordinal) && p.Contains("CertificatePath", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("MoeMesh:Dashboard:ApiKeys:0", StringComparison.Ordinal) && p.Contains("16", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("MoeMesh:Dashboard:ApiKeys:1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("MaxRequestBodyBytes", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("LiveIntervalMs", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("RecentDecisions", StringComparison.Ordinal));
        Assert.Empty(new MoeMeshDashboardOptions().Validate());
    }

    [Fact]
    public void Without_a_key_every_address_is_narrowed_to_the_loopback_interface()
    {
        var settings = new DashboardSettings(new MoeMeshDashboardOptions { Urls = ["http://0.0.0.0:5080", "http://127.0.0.1:5081"] });

        Assert.True(settings.NarrowedToLoopback);
        Assert.All(settings.Listen, a => Assert.True(IPAddress.IsLoopback(a.Address)));
        Assert.Equal(["http://127.0.0.1:5080", "http://127.0.0.1:5081"], settings.Listen.Select(a => a.ToString()));
    }

    [Fact]
    public void With_a_key_the_configured_addresses_are_kept()
    {
        var settings = new DashboardSettings(new MoeMeshDashboardOptions { Urls = ["http://0.0.0.0:5080"], ApiKeys = ["0123456789abcdef0123"] });

        Assert.False(settings.NarrowedToLoopback);
        Assert.Equal("http://0.0.0.0:5080", Assert.Single(settings.Listen).ToString());
    }

    [Fact]
    public void The_default_address_is_the_loopback_port_5080()
        => Assert.Equal("http://127.0.0.1:5080", Assert.Single(new DashboardSettings(new MoeMeshDashboardOptions()).Listen).ToString());

    [Fact]
    public void Bad_configuration_stops_the_host_with_a_message_naming_the_key()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MoeMesh:Dashboard:Urls:0"] = "http://example.com:80",
            ["MoeMesh:Dashboard:LiveIntervalMs"] = "fast",
        });

        var error = Assert.Throws<MoeMeshConfigurationException>(() => builder.AddMoeMeshDashboard());

        Assert.Contains("MoeMesh:Dashboard", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_telemetry_configuration_is_refused_naming_the_key()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["MoeMesh:Telemetry:OtlpEndpoint"] = "collector:4317" });

        var error = Assert.Throws<MoeMeshConfigurationException>(() => builder.AddMoeMeshTelemetry());

        Assert.Contains("MoeMesh:Telemetry:OtlpEndpoint", error.Message, StringComparison.Ordinal);
    }
}
