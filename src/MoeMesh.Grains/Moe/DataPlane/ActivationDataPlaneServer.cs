using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using MoeMesh.Activations;
using MoeMesh.Grains.Hosting;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// This silo's TCP frame stream: listens on the silo's address once a grain asks for it, admits a
/// connection only after it completes the mesh's mutual TLS when that is configured
/// (<see cref="DataPlaneSecurity"/>) and presents this silo's token (handed out by grain calls, which
/// travel inside the mesh), then answers each frame on the connection in order.
/// </summary>
internal sealed partial class ActivationDataPlaneServer(
    SiloIdentity silo, LocalShardRunners runners, DataPlaneSecurity security, ILogger<ActivationDataPlaneServer> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private static readonly TimeSpan TokenTimeout = TimeSpan.FromSeconds(10);
    private readonly byte[] _token = RandomNumberGenerator.GetBytes(DataPlaneFraming.TokenBytes);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    public async Task<DataPlaneEndpoint> EnsureStartedAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_listener is null)
            {
                var address = silo.Address.Endpoint.Address;
                _listener = new TcpListener(address, 0);
                _listener.Start();
                _accepting = Task.Run(() => AcceptAsync(_listener, _stopping.Token));
                LogListening(logger, _listener.LocalEndpoint.ToString() ?? "", security.IsTls ? "mutual TLS against the mesh CA" : "plain TCP");
            }

            var endpoint = (IPEndPoint)_listener.LocalEndpoint;
            return new DataPlaneEndpoint(endpoint.Address.ToString(), endpoint.Port, _token);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            client.NoDelay = true;
            lock (_connections)
            {
                _connections.Add(client);
            }

            // Each connection is served on a thread of its own, blocked in the socket's read between
            // frames: the kernel wakes it when a frame arrives, with no hand-off through the socket
            // engine and the thread pool, whose queueing on a busy machine made the hop's tail. A
            // connection is one backbone sequence's stream to this silo, so there are few of them.
            new Thread(() => Serve(client)) { IsBackground = true, Name = "moemesh data plane" }.Start();
        }
    }

    private void Serve(TcpClient client)
    {
        try
        {
            // Handshake and token on this thread too: one asynchronous operation would leave the socket
            // non-blocking for good (see DataPlaneSecurity.Accept).
            using var stream = security.Accept(client.Client);
            var token = new byte[DataPlaneFraming.TokenBytes];
            client.Client.ReceiveTimeout = (int)TokenTimeout.TotalMilliseconds;
            stream.ReadExactly(token);
            client.Client.ReceiveTimeout = 0;
            if (!CryptographicOperations.FixedTimeEquals(token, _token))
            {
                LogRefused(logger, client.Client.RemoteEndPoint?.ToString() ?? "?");
                return;
            }

            // The connection's two buffers serve every frame on it: nothing the size of a frame is allocated per exchange.
            using var request = new FrameBuffer();
            using var reply = new FrameBuffer();
            while (DataPlaneFraming.Read(stream, request, ActivationFrameLimits.Default.MaxFrameBytes))
            {
                runners.Handle(request.Written, DataPlaneFraming.Begin(reply));
                DataPlaneFraming.Send(stream, reply);
            }
        }
        catch (AuthenticationException ex)
        {
            LogRefusedTls(logger, EndpointOf(client), ex.Message);
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            // A bad frame or a dropped peer ends this connection only.
            LogConnectionEnded(logger, ex.Message);
        }
#pragma warning disable CA1031 // Nothing may escape a thread of its own: it would end the silo process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogConnectionFailed(logger, ex);
        }
        finally
        {
            Close(client);
        }
    }

    private static string EndpointOf(TcpClient client)
    {
        try
        {
            return client.Client.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (ObjectDisposedException)
        {
            return "?";
        }
    }

    private static bool IsConnectionEnd(Exception ex)
        => ex is IOException or SocketException or EndOfStreamException or ActivationFrameFormatException or OperationCanceledException or ObjectDisposedException;

    private void Close(TcpClient client)
    {
        lock (_connections)
        {
            _connections.Remove(client);
        }

        client.Dispose();
    }

    /// <summary>The stream stops with the silo, so peers see a lost silo as a broken connection at once.</summary>
    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(ActivationDataPlaneServer), ServiceLifecycleStage.Active, _ => Task.CompletedTask, _ => StopAsync());

    private async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener?.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }

            _connections.Clear();
        }

        await _accepting;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Activation data plane listening on {Endpoint} ({Security})")]
    private static partial void LogListening(ILogger logger, string endpoint, string security);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Activation data plane refused {Peer}: wrong token")]
    private static partial void LogRefused(ILogger logger, string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Activation data plane refused {Peer}: no mesh certificate ({Reason})")]
    private static partial void LogRefusedTls(ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Activation data plane connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Activation data plane connection ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string reason);
}
