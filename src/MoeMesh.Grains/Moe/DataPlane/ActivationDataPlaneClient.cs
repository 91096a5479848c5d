using System.Net.Sockets;
using MoeMesh.Activations;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>One long-lived, authenticated connection to another silo's frame stream; one exchange at a time.</summary>
internal sealed class ActivationDataPlaneClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private ActivationDataPlaneClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<ActivationDataPlaneClient> ConnectAsync(DataPlaneEndpoint endpoint, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
            await client.GetStream().WriteAsync(endpoint.Token, cancellationToken);
            return new ActivationDataPlaneClient(client);
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
