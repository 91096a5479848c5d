using Microsoft.Extensions.Options;
using Orleans.Messaging;
using Orleans.Runtime;

namespace MoeMesh.Client;

/// <summary>
/// The gateways of <see cref="MoeMeshClientOptions.Gateways"/>, resolved when the client connects
/// and again at every refresh, so a box that changed its address is found again.
/// </summary>
internal sealed class MoeMeshGatewayListProvider(IOptions<MoeMeshClientOptions> options) : IGatewayListProvider
{
    public TimeSpan MaxStaleness => TimeSpan.FromMinutes(1);

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        var gateways = options.Value.Gateways;
        var named = gateways.Count == 0 ? [MoeMeshClientOptions.LocalGateway] : gateways;
        var uris = new List<Uri>(named.Count);
        foreach (var text in named)
        {
            var endpoint = await GatewayEndpoint.Parse(text).ResolveAsync();
            uris.Add(endpoint.ToGatewayUri());
        }

        return uris;
    }
}
