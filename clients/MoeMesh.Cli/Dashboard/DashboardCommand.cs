using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Dashboard;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Cli.Dashboard;

/// <summary>
/// <c>moemesh dashboard</c>: serves the web dashboard and the OpenAI-compatible API for a running mesh
/// from a separate process, as an Orleans client of the mesh's gateways.
/// </summary>
public static class DashboardCommand
{
    /// <summary>Exit code for bad options or configuration.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code when no gateway of the mesh answers.</summary>
    public const int NoMesh = 3;

    /// <summary>How long to wait for a gateway before giving up.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    public static Command Create()
    {
        var gateways = new Option<string[]>("--gateway", "-g")
        {
            Description = "A gateway of the mesh as host:port (repeatable). Default: the local mesh, 127.0.0.1:30000.",
            HelpName = "host:port",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Where to listen, such as http://0.0.0.0:5080 (repeatable). Default: {MoeMeshDashboardOptions.DefaultUrl}. Without an API key only loopback addresses are used.",
            HelpName = "url",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var keys = new Option<string[]>("--api-key")
        {
            Description = "An API key that opens the API and the dashboard (repeatable; at least 16 characters). Keys can also come from MOEMESH_MoeMesh__Dashboard__ApiKeys__0, which keeps them out of the process list.",
            HelpName = "key",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var clusterId = new Option<string>("--cluster-id") { Description = "The mesh's cluster id.", DefaultValueFactory = _ => "moemesh" };
        var serviceId = new Option<string>("--service-id") { Description = "The mesh's service id.", DefaultValueFactory = _ => "moemesh" };
        var otlp = new Option<string?>("--otlp-endpoint") { Description = "Export traces and metrics by OTLP to this collector, such as http://localhost:4317.", HelpName = "url" };
        var consoleTelemetry = new Option<bool>("--telemetry-console") { Description = "Write traces and metrics to the console." };
        var noOrleans = new Option<bool>("--no-orleans-dashboard") { Description = "Do not mount the Orleans dashboard (grain views) under /orleans." };

        var command = new Command("dashboard", "Serve the web dashboard and the OpenAI-compatible API (/v1) for a running mesh, as a client of its gateways.")
        {
            gateways, urls, keys, clusterId, serviceId, otlp, consoleTelemetry, noOrleans,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new DashboardRun(
                parse.GetValue(gateways) ?? [],
                parse.GetValue(urls) ?? [],
                parse.GetValue(keys) ?? [],
                parse.GetValue(clusterId) ?? "moemesh",
                parse.GetValue(serviceId) ?? "moemesh",
                parse.GetValue(otlp),
                parse.GetValue(consoleTelemetry),
                !parse.GetValue(noOrleans)),
            cancellationToken));
        return command;
    }

    /// <summary>Registers the mesh client, the dashboard and telemetry; returns what is wrong with the settings, or null.</summary>
    private static string? Configure(WebApplicationBuilder builder, DashboardRun run)
    {
        try
        {
            builder.Services.AddMoeMeshClient(o =>
            {
                o.Gateways = [.. run.Gateways];
                o.ClusterId = run.ClusterId;
                o.ServiceId = run.ServiceId;
            });
            builder.AddMoeMeshDashboard(o =>
            {
                if (run.Urls.Count > 0)
                {
                    o.Urls = [.. run.Urls];
                }

                if (run.ApiKeys.Count > 0)
                {
                    o.ApiKeys = [.. run.ApiKeys];
                }

                o.OrleansDashboard &= run.OrleansDashboard;
            });
            builder.AddMoeMeshTelemetry(o =>
            {
                o.OtlpEndpoint = run.OtlpEndpoint ?? o.OtlpEndpoint;
                o.Console |= run.ConsoleTelemetry;
                o.ServiceName = "moemesh-dashboard";
            });
        }
        catch (Exception ex) when (ex is MoeMeshConfigurationException or ArgumentException)
        {
            return ex.Message;
        }

        return null;
    }

    /// <summary>Runs the dashboard until Ctrl+C; returns the exit code.</summary>
    public static async Task<int> RunAsync(DashboardRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables(prefix: "MOEMESH_");
        builder.Logging
            .AddFilter("Orleans", LogLevel.Warning)
            .AddFilter("Orleans.Runtime.Messaging", LogLevel.Error)
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (Configure(builder, run) is { } problem)
        {
            await Console.Error.WriteLineAsync($"moemesh dashboard: {problem}");
            return BadInput;
        }

        await using var app = builder.Build();
        app.MapMoeMeshDashboard();
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connecting.CancelAfter(ConnectTimeout);
        try
        {
            await app.StartAsync(connecting.Token);
        }
        catch (IOException ex)
        {
            await app.StopAsync(CancellationToken.None);
            await Console.Error.WriteLineAsync($"moemesh dashboard: cannot listen: {ex.Message} (choose another address with --urls)");
            return BadInput;
        }
        catch (OptionsValidationException ex)
        {
            // Bad settings (a gateway that is not host:port, unreadable certificates) stop the start.
            await Console.Error.WriteLineAsync($"moemesh dashboard: {ex.Message}");
            return BadInput;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var where = run.Gateways.Count == 0 ? "127.0.0.1:30000" : string.Join(", ", run.Gateways);
            var why = ex is OperationCanceledException ? $"no gateway answered within {ConnectTimeout.TotalSeconds:0} s" : ex.Message;
            await Console.Error.WriteLineAsync($"moemesh dashboard: no mesh reachable at {where}: {why}");
            return NoMesh;
        }

        Console.WriteLine($"MoeMesh dashboard: {string.Join(" ", MoeMeshDashboardExtensions.DashboardUrls(app.Services))}");
        Console.WriteLine("OpenAI-compatible API under /v1; press Ctrl+C to stop.");
        try
        {
            await app.WaitForShutdownAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }
}

/// <summary>What <c>moemesh dashboard</c> was asked to do.</summary>
public sealed record DashboardRun(
    IReadOnlyList<string> Gateways,
    IReadOnlyList<string> Urls,
    IReadOnlyList<string> ApiKeys,
    string ClusterId,
    string ServiceId,
    string? OtlpEndpoint,
    bool ConsoleTelemetry,
    bool OrleansDashboard);
