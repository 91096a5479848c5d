using System.Buffers;
using System.Net.Sockets;
using MoeMesh.Activations;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// One long-lived, authenticated connection to another silo's frame stream; one exchange at a time.
/// The request and the reply travel through the connection's own reused buffers.
/// </summary>
internal sealed class ActivationDataPlaneClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly FrameBuffer _send = new();
    private readonly FrameBuffer _receive = new();
    private int _receiveTimeoutMs;

    private ActivationDataPlaneClient(TcpClient client, Stream stream)
    {
        _client = client;
        _stream = stream;
    }

    /// <summary>
    /// Connects, secures the connection as <paramref name="security"/> says, and presents the endpoint's
    /// token, on a thread-pool thread with blocking calls only: the socket must never serve an
    /// asynchronous operation, so that it stays blocking and <see cref="Receive"/> waits in the kernel
    /// (see <see cref="DataPlaneSecurity.Accept"/>). Cancelling closes the socket, which ends a pending connect.
    /// </summary>
    public static Task<ActivationDataPlaneClient> ConnectAsync(DataPlaneEndpoint endpoint, DataPlaneSecurity security, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(security);
        return Task.Run(() => Connect(endpoint, security, cancellationToken), cancellationToken);
    }

    private static ActivationDataPlaneClient Connect(DataPlaneEndpoint endpoint, DataPlaneSecurity security, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using (cancellationToken.Register(static c => ((TcpClient)c!).Dispose(), client))
            {
                client.Connect(endpoint.Host, endpoint.Port);
                var stream = security.Connect(client.Client, endpoint.Host);
                stream.Write(endpoint.Token);
                stream.Flush();
                cancellationToken.ThrowIfCancellationRequested();
                return new ActivationDataPlaneClient(client, stream);
            }
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Starts the next request: the frame is encoded into the connection's send buffer, then <see cref="Send"/> sends it.</summary>
    public IBufferWriter<byte> BeginFrame() => DataPlaneFraming.Begin(_send);

    /// <summary>Sends the frame encoded since <see cref="BeginFrame"/> on the calling thread; its bytes (without the length prefix).</summary>
    public int Send()
    {
        DataPlaneFraming.Send(_stream, _send);
        return _send.Written.Length - DataPlaneFraming.PrefixBytes;
    }

    /// <summary>
    /// Waits on the calling thread for the reply to the frame sent, at most <paramref name="timeout"/>;
    /// the hop path's form (see <see cref="DataPlaneFraming.Read"/>). The reply lives in this
    /// connection's receive buffer: it is valid until the next exchange, so the caller decodes it before then.
    /// </summary>
    /// <exception cref="IOException">The peer closed the connection, or no reply came in time: the connection is then unusable.</exception>
    public ReadOnlyMemory<byte> Receive(TimeSpan timeout)
    {
        var milliseconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);
        if (milliseconds != _receiveTimeoutMs)
        {
            _client.ReceiveTimeout = milliseconds;
            _receiveTimeoutMs = milliseconds;
        }

        return DataPlaneFraming.Read(_stream, _receive, ActivationFrameLimits.Default.MaxFrameBytes)
            ? _receive.Written
            : throw new IOException("The data plane peer closed the connection.");
    }

    /// <summary>Sends an encoded <paramref name="frame"/> and waits on the calling thread for the reply (valid until the next exchange).</summary>
    /// <exception cref="IOException">The peer closed the connection, or no reply came within <paramref name="timeout"/>.</exception>
    public ReadOnlyMemory<byte> Exchange(ReadOnlyMemory<byte> frame, TimeSpan timeout)
    {
        var send = BeginFrame();
        frame.Span.CopyTo(send.GetSpan(frame.Length));
        send.Advance(frame.Length);
        Send();
        return Receive(timeout);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
        _send.Dispose();
        _receive.Dispose();
    }
}
