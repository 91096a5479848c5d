using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoeMesh.Client;

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
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddMoeMeshClient(o => o.Gateways = [.. endpoints]);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            host.Dispose();
            var where = endpoints.Count == 0 ? MoeMeshClientOptions.LocalGateway : string.Join(", ", endpoints);
            throw new MeshUnreachableException(
                $"No MoeMesh gateway answers at {where} ({ex.GetBaseException().Message}). Start a local mesh with `moemesh up`, or pass --gateway host:port.", ex);
        }

        return new MeshConnection(host);
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
