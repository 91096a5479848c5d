using System.Net.Sockets;
using MoeMesh.Activations;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>One long-lived, authenticated connection to another silo's frame stream; one exchange at a time.</summary>
internal sealed class ActivationDataPlaneClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;

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

    public async Task<byte[]> ExchangeAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await DataPlaneFraming.WriteAsync(_stream, frame, cancellationToken);
        return await DataPlaneFraming.ReadAsync(_stream, ActivationFrameLimits.Default.MaxFrameBytes, cancellationToken)
            ?? throw new IOException("The data plane peer closed the connection.");
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }
}
