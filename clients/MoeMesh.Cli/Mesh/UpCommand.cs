using System.CommandLine;
using MoeMesh.Cli.Common;

namespace MoeMesh.Cli.Mesh;

/// <summary><c>moemesh up</c>: a local mesh of silo processes with demo experts, until Ctrl+C.</summary>
public static class UpCommand
{
    public const string DefaultProfiles = "jetson-agx-orin-64gb,rtx-4090-desktop";

    public static Command Create()
    {
        var options = new UpOptions();
        var command = new Command("up", "Start a local mesh: one silo process per device profile (default: a Jetson AGX Orin and an RTX 4090 box) serving the demo experts, with the dashboard; stays up until Ctrl+C.");
        options.AddTo(command);
        options.AddDashboardTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var progress = result.InvocationConfiguration.Error;
            var output = result.InvocationConfiguration.Output;
            try
            {
                var folders = await options.ResolveExpertFoldersAsync(result, progress, cancellationToken);
                var dashboard = options.Dashboard(result);
                await using var up = await MeshBringUp.StartAsync(options.Silos(result, dashboard), folders, options.ExtraArguments(result), progress, cancellationToken);
                new LocalMeshState { Gateways = up.Mesh.Gateways, SiloProcessIds = up.Mesh.ProcessIds, DashboardUrl = dashboard?.Url, StartedAt = TimeProvider.System.GetUtcNow() }.Write();
                try
                {
                    StatusCommand.Write(await up.Connection.Client.GetStatusAsync(cancellationToken), output);
                    await output.WriteLineAsync();
                    await output.WriteLineAsync($"Mesh is up (gateways {string.Join(", ", up.Mesh.Gateways)}). Try: moemesh ask \"What is 7 times 6?\"   Stop with Ctrl+C.");
                    if (dashboard is not null)
                    {
                        await output.WriteLineAsync($"Dashboard: {dashboard.Url}/login?key={dashboard.ApiKey}");
                        await output.WriteLineAsync($"OpenAI-compatible API: curl -N {dashboard.Url}/v1/chat/completions -H 'Authorization: Bearer {dashboard.ApiKey}' -H 'Content-Type: application/json' -d '{{\"model\":\"moemesh\",\"stream\":true,\"messages\":[{{\"role\":\"user\",\"content\":\"What is 7 times 6?\"}}]}}'");
                    }
                    return await WaitAsync(up.Mesh, progress, cancellationToken);
                }
                finally
                {
                    LocalMeshState.Delete();
                    await progress.WriteLineAsync("stopping the mesh…");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MeshUnreachableException or IOException)
            {
                await progress.WriteLineAsync($"moemesh up: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static async Task<int> WaitAsync(LocalMesh mesh, TextWriter progress, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (mesh.Exited().FirstOrDefault() is { Spec: not null } dead)
            {
                await progress.WriteLineAsync($"silo {dead.Spec.Profile} exited with code {dead.ExitCode}; see {dead.Log}");
                return ExitCodes.Failed;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return ExitCodes.Ok;
    }
}

/// <summary>Where the local mesh's dashboard and API listen, and their key.</summary>
public sealed record LocalDashboard(string Url, string ApiKey);

/// <summary>Options of verbs that start a local mesh (<c>up</c>, <c>demo</c>).</summary>
internal sealed class UpOptions
{
    public Option<string> Profiles { get; } = new("--silos")
    {
        Description = "Comma-separated device profiles, one silo each (names from deploy/profiles or paths).",
        DefaultValueFactory = _ => UpCommand.DefaultProfiles,
    };

    public Option<string[]> Experts { get; } = new("--experts")
    {
        Description = "Folder of expert manifests every silo may host (repeatable). Default: the demo experts, synthesized on first use.",
    };

    public Option<int> SiloPort { get; } = new("--silo-port") { Description = "First silo port.", DefaultValueFactory = _ => 11111 };

    public Option<int> GatewayPort { get; } = new("--gateway-port") { Description = "First gateway port.", DefaultValueFactory = _ => 30000 };

    public Option<int> DashboardPort { get; } = new("--dashboard-port")
    {
        Description = "Port of the dashboard and OpenAI-compatible API, served by the first silo on 127.0.0.1; 0 turns it off.",
        DefaultValueFactory = _ => 5080,
    };

    public Option<string?> DashboardKey { get; } = new("--dashboard-key")
    {
        Description = "API key for the dashboard and API (at least 16 characters). Default: a new random key each time.",
    };

    public Option<string[]> SiloSetting { get; } = new("--silo-setting")
    {
        Description = "Extra silo configuration Key=Value passed to every silo (repeatable), e.g. MoeMesh:Experts:ModelMemoryBudgetBytes=2000000000.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Profiles);
        command.Options.Add(Experts);
        command.Options.Add(SiloPort);
        command.Options.Add(GatewayPort);
        command.Options.Add(SiloSetting);
    }

    /// <summary>Adds the dashboard options (only verbs that keep the mesh up need them).</summary>
    public void AddDashboardTo(Command command)
    {
        command.Options.Add(DashboardPort);
        command.Options.Add(DashboardKey);
    }

    /// <summary>The dashboard the first silo serves, or null when it is turned off.</summary>
    public LocalDashboard? Dashboard(ParseResult result)
    {
        var port = result.GetValue(DashboardPort);
        if (port <= 0)
        {
            return null;
        }

        var key = result.GetValue(DashboardKey) ?? Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        return new LocalDashboard($"http://127.0.0.1:{port}", key);
    }

    public IReadOnlyList<LocalSiloSpec> Silos(ParseResult result, LocalDashboard? dashboard = null)
    {
        var profiles = (result.GetValue(Profiles) ?? UpCommand.DefaultProfiles)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var silos = LocalMesh.Plan(profiles, result.GetValue(SiloPort), result.GetValue(GatewayPort)).ToList();
        if (dashboard is not null)
        {
            silos[0] = silos[0] with
            {
                Settings =
                [
                    "--MoeMesh:Dashboard:Enabled=true",
                    $"--MoeMesh:Dashboard:Urls:0={dashboard.Url}",
                    $"--MoeMesh:Dashboard:ApiKeys:0={dashboard.ApiKey}",
                ],
            };
        }

        return silos;
    }

    /// <summary>
    /// Settings for every silo: the local silos emulate their device profiles on this one machine, so
    /// energy comes from the profile model (a host meter would be shared by all of them); queries for
    /// one expert gather for 10 ms so llama.cpp decodes them as one batch; then the user's
    /// --silo-setting values, which may override these.
    /// </summary>
    public IReadOnlyList<string> ExtraArguments(ParseResult result)
        =>
        [
            "--MoeMesh:Energy:Meter=Model",
            "--MoeMesh:Routing:BatchWindow=00:00:00.010",
            .. (result.GetValue(SiloSetting) ?? []).Select(s => s.StartsWith("--", StringComparison.Ordinal) ? s : "--" + s),
        ];

    /// <summary>True when the user named expert folders (so no demo experts are needed).</summary>
    public bool HasExperts(ParseResult result) => result.GetValue(Experts) is { Length: > 0 };

    public async Task<IReadOnlyList<string>> ResolveExpertFoldersAsync(ParseResult result, TextWriter progress, CancellationToken cancellationToken)
    {
        var given = result.GetValue(Experts);
        if (given is { Length: > 0 })
        {
            return given.Select(Path.GetFullPath).ToList();
        }

        return [await DemoExperts.EnsureAsync(progress, cancellationToken)];
    }
}
