using System.Net.Sockets;
using System.Runtime.CompilerServices;
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

    private ActivationDataPlaneClient(TcpClient client, Stream stream)
    {
        _client = client;
        _stream = stream;
    }

    /// <summary>Connects, secures the connection as <paramref name="security"/> says, and presents the endpoint's token.</summary>
    public static async Task<ActivationDataPlaneClient> ConnectAsync(DataPlaneEndpoint endpoint, DataPlaneSecurity security, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(security);
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
            var stream = await security.ConnectAsync(client.GetStream(), endpoint.Host, cancellationToken);
            await stream.WriteAsync(endpoint.Token, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            return new ActivationDataPlaneClient(client, stream);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="frame"/> and returns the reply, which lives in this connection's receive
    /// buffer: it is valid until the next exchange, so the caller decodes it before then.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>> ExchangeAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var send = DataPlaneFraming.Begin(_send);
        frame.Span.CopyTo(send.GetSpan(frame.Length));
        send.Advance(frame.Length);
        await DataPlaneFraming.SendAsync(_stream, send, cancellationToken).ConfigureAwait(false);
        if (!await DataPlaneFraming.ReadAsync(_stream, _receive, ActivationFrameLimits.Default.MaxFrameBytes, cancellationToken).ConfigureAwait(false))
        {
            throw new IOException("The data plane peer closed the connection.");
        }

        return _receive.Written;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
        _send.Dispose();
        _receive.Dispose();
    }
}
