using System.CommandLine;
using System.Globalization;
using MoeMesh.Activations;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Mesh;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench hop</c>: two silo processes on loopback; one-token activation frames from one
/// silo's grain to the other's, as Orleans grain calls and over the TCP frame stream, in one run;
/// p50/p99 per transport and frame dtype, and the bytes a token moves per hop.
/// </summary>
public static class BenchHopCommand
{
    public static Command Create()
    {
        var hidden = new Option<int>("--hidden") { Description = "Hidden size H of the frames (values per token).", DefaultValueFactory = _ => 2048 };
        var iterations = new Option<int>("--iterations") { Description = "Measured round trips per transport and dtype (after 200 warm-up trips).", DefaultValueFactory = _ => 5000 };
        var profile = new Option<string>("--profile") { Description = "Device profile of both silos.", DefaultValueFactory = _ => "rtx-4090-desktop" };
        var siloPort = new Option<int>("--silo-port") { Description = "First silo port.", DefaultValueFactory = _ => 22311 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "First gateway port.", DefaultValueFactory = _ => 32311 };
        var json = MeshOptions.Json();
        var command = new Command("hop", "Activation hop latency between two silo processes on loopback: grain calls against the TCP frame stream, f32 and f16 frames.")
        {
            hidden, iterations, profile, siloPort, gatewayPort, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var (h, n) = (parse.GetValue(hidden), parse.GetValue(iterations));
            if (h is < 1 or > 65536 || n is < 10 or > 1_000_000)
            {
                await stderr.WriteLineAsync("error: --hidden must be 1 to 65536 and --iterations 10 to 1,000,000");
                return ExitCodes.Usage;
            }

            HopBenchReport report;
            try
            {
                var silos = LocalMesh.Plan([parse.GetValue(profile)!, parse.GetValue(profile)!], parse.GetValue(siloPort), parse.GetValue(gatewayPort));
                report = await HopBenchRunner.RunAsync(silos, h, n, stderr, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or MoeMesh.Errors.MoeMeshException or TimeoutException)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return ExitCodes.Failed;
            }

            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(CliJson.Serialize(report));
            }
            else
            {
                Write(stdout, report);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(TextWriter output, HopBenchReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"activation hop between two silo processes on loopback, H = {report.HiddenSize}, {report.Iterations} round trips each"));
        output.WriteLine("dtype   bytes/token   grain call p50/p99 µs   TCP stream p50/p99 µs   TCP allocated B/hop (sender + answerer)");
        foreach (var m in report.Measurements)
        {
            output.WriteLine(string.Create(inv, $"{m.DType,-5}   {m.BytesPerToken,11}   {m.GrainCallP50Us,9:F0} / {m.GrainCallP99Us,-9:F0}   {m.TcpP50Us,9:F0} / {m.TcpP99Us,-9:F0}   {m.TcpClientAllocatedBytesPerHop} + {m.TcpServerAllocatedBytesPerHop}"));
        }

        output.WriteLine(string.Create(inv, $"kept: {report.Transport} (f32 hop p50 {report.HopP50Us:F0} µs, p99 {report.HopP99Us:F0} µs; goal p50 ≤ 250 µs, p99 ≤ 1000 µs: {(report.GoalMet ? "met" : "NOT met")})"));
    }
}
