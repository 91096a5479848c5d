namespace MoeMesh.Cli.Tests.Mesh;

[Collection(MoeMeshHomeCollection.Name)]
public sealed class MeshVerbsTests
{
    [Fact]
    public async Task Ask_without_a_mesh_says_how_to_start_one()
    {
        var (code, _, error) = await CliRunner.RunAsync("ask", "hello", "--gateway", "127.0.0.1:39999");

        Assert.Equal(3, code);
        Assert.Contains("No MoeMesh gateway answers at 127.0.0.1:39999", error);
        Assert.Contains("moemesh up", error);
    }

    [Fact]
    public async Task Status_without_a_mesh_exits_3()
    {
        var (code, _, error) = await CliRunner.RunAsync("status", "--json", "--gateway", "127.0.0.1:39998");

        Assert.Equal(3, code);
        Assert.Contains("No MoeMesh gateway answers", error);
    }

    [Fact]
    public async Task Unknown_strategy_is_a_usage_error()
    {
        var (code, _, error) = await CliRunner.RunAsync("ask", "hello", "--strategy", "telepathy");

        Assert.NotEqual(0, code);
        Assert.Contains("telepathy", error);
    }

    [Fact]
    public async Task Up_refuses_ports_already_in_use()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var (code, _, error) = await CliRunner.RunAsync("up", "--experts", Path.GetTempPath(), "--silo-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dashboard-port", "0");

        Assert.Equal(1, code);
        Assert.Contains($"Port {port} is already in use", error);
    }

    [Fact]
    public async Task Root_help_lists_every_verb()
    {
        var (code, output, _) = await CliRunner.RunAsync("--help");

        Assert.Equal(0, code);
        foreach (var verb in new[] { "demo", "up", "ask", "status", "models", "bench", "dashboard" })
        {
            Assert.Contains(verb, output);
        }
    }
}
