using System.Diagnostics;

namespace MoeMesh.Silo.Tests;

/// <summary>
/// The silo executable refuses bad configuration with exit code 2 and a message that names the
/// problem, before it joins any mesh; it never crashes with an unhandled exception.
/// </summary>
public sealed class SiloProgramTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moemesh-silo-tests-").FullName;

    [Fact]
    public async Task An_unknown_device_profile_lists_the_ready_made_ones()
    {
        var (code, error) = await RunSiloAsync("--MoeMesh:Device:Profile=jetson-thor-9000");

        Assert.Equal(2, code);
        Assert.Contains("moemesh-silo: Unknown device profile 'jetson-thor-9000'", error);
        Assert.Contains("rtx-4090-desktop", error);
    }

    [Fact]
    public async Task Invalid_manifests_list_every_problem_with_its_file()
    {
        var manifest = Path.Combine(_folder, "bad.json");
        await File.WriteAllTextAsync(manifest, """{ "id": "x", "engine": "tensorflow", "modelPath": "x.gguf", "parameterCount": -5, "contextSize": 4096 }""");

        var (code, error) = await RunSiloAsync($"--MoeMesh:Experts:Manifests:0={_folder}");

        Assert.Equal(2, code);
        Assert.Contains("Expert manifests are invalid", error);
        Assert.Contains($"{manifest}: 'engine' \"tensorflow\" is unknown", error);
        Assert.Contains($"{manifest}: 'parameterCount' must be between 0", error);
    }

    [Fact]
    public async Task Options_that_fail_validation_at_start_name_their_key()
    {
        var (code, error) = await RunSiloAsync(
            "--MoeMesh:Routing:HeartbeatInterval=00:00:00.010",
            "--MoeMesh:Endpoints:SiloPort=24611",
            "--MoeMesh:Endpoints:GatewayPort=34611",
            "--MoeMesh:Endpoints:PrimarySiloPort=24611");

        Assert.Equal(2, code);
        Assert.Contains("moemesh-silo: MoeMesh:Routing:HeartbeatInterval must be 0 (none) or between 100 ms and 1 minute.", error);
        Assert.DoesNotContain("Unhandled exception", error);
    }

    [Fact]
    public async Task A_dashboard_switch_that_is_not_a_boolean_is_refused()
    {
        var (code, error) = await RunSiloAsync("--MoeMesh:Dashboard:Enabled=maybe");

        Assert.Equal(2, code);
        Assert.Contains("MoeMesh:Dashboard:Enabled must be true or false, got 'maybe'", error);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Runs the silo executable built next to the tests and returns its exit code and standard error.</summary>
    private static async Task<(int Code, string Error)> RunSiloAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MoeMesh.Silo.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the silo did not exit within 90 s: {await output}{await error}");
        }

        return (process.ExitCode, await error + await output);
    }
}
