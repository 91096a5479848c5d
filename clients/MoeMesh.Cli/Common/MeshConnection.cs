using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Client;
using MoeMesh.Security;

namespace MoeMesh.Cli.Common;

/// <summary>A connected SDK client for one command's lifetime.</summary>
public sealed class MeshConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private MeshConnection(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IMoeMeshClient>();
    }

    public IMoeMeshClient Client { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// Connects to <paramref name="gateways"/> (empty: the local mesh, or the gateways recorded by
    /// <c>moemesh up</c>); throws <see cref="MeshUnreachableException"/> with what to do when no gateway answers.
    /// </summary>
    public static async Task<MeshConnection> OpenAsync(IReadOnlyList<string> gateways, CancellationToken cancellationToken)
    {
        var endpoints = gateways.Count > 0 ? gateways : LocalMeshState.Read()?.Gateways ?? [];
        var where = endpoints.Count == 0 ? MoeMeshClientOptions.LocalGateway : string.Join(", ", endpoints);

        // The Orleans client keeps retrying gateways that do not answer; a quick TCP probe tells at once.
        if (!await AnyGatewayListensAsync(endpoints.Count == 0 ? [MoeMeshClientOptions.LocalGateway] : endpoints, cancellationToken))
        {
            throw new MeshUnreachableException(
                $"No MoeMesh gateway answers at {where}. Start a local mesh with `moemesh up`, or pass --gateway host:port.");
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        var tls = TlsFromEnvironment();
        builder.Services.AddMoeMeshClient(o =>
        {
            o.Gateways = [.. endpoints];
            o.Tls = tls;
        });

        // The command owns Ctrl+C and SIGTERM (it stops its silos first); the client host must not take them.
        builder.Services.AddSingleton<IHostLifetime, CommandOwnedLifetime>();
        var host = builder.Build();
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connecting.CancelAfter(ConnectTimeout);
        try
        {
            await host.StartAsync(connecting.Token);
        }
        catch (OptionsValidationException ex)
        {
            // The settings are checked (and the certificates read) when the client starts.
            host.Dispose();
            throw new MeshUnreachableException($"This client's settings cannot be used: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new MeshUnreachableException(
                $"No MoeMesh gateway answers at {where} ({ex.GetBaseException().Message}). Start a local mesh with `moemesh up`, or pass --gateway host:port.", ex);
        }

        return new MeshConnection(host);
    }

    /// <summary>
    /// The client's certificate settings, from the same keys a silo reads, as environment variables
    /// (<c>MoeMesh__Tls__CertificatePath</c>, <c>MOEMESH_MoeMesh__Tls__CaPath</c>, …).
    /// </summary>
    public static MeshTlsOptions TlsFromEnvironment()
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddEnvironmentVariables("MOEMESH_").Build();
        return configuration.GetSection(MeshTlsOptions.SectionName).Get<MeshTlsOptions>() ?? new MeshTlsOptions();
    }

    /// <summary>How long joining the mesh through its gateways may take.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    private static async Task<bool> AnyGatewayListensAsync(IReadOnlyList<string> endpoints, CancellationToken cancellationToken)
    {
        IPEndPoint[] parsed;
        try
        {
            parsed = MoeMeshClientServiceCollectionExtensions.ParseGateways([.. endpoints]);
        }
        catch (ArgumentException ex)
        {
            throw new MeshUnreachableException(ex.Message, ex);
        }

        foreach (var endpoint in parsed)
        {
            using var probe = new TcpClient();
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await probe.ConnectAsync(endpoint, attempt.Token);
                return true;
            }
            catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
        }

        _host.Dispose();
    }
}

/// <summary>No gateway of the mesh could be reached.</summary>
public sealed class MeshUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A host lifetime that listens to no signals: the command that opened the connection stops it.</summary>
internal sealed class CommandOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
