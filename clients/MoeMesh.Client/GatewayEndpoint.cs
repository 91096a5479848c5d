using System.Net;
using System.Net.Sockets;

namespace MoeMesh.Client;

/// <summary>
/// A gateway written as "host:port". Parsing never touches the network; the host name is resolved
/// only when the client connects, so a configuration can name boxes that are not up yet.
/// </summary>
public sealed record GatewayEndpoint(string Host, int Port)
{
    /// <summary>Parses "host:port" (IPv6 hosts in brackets); <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string? text, out GatewayEndpoint? endpoint, out string? error)
    {
        endpoint = null;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
        {
            error = $"Gateway '{text}' is not of the form host:port.";
            return false;
        }

        endpoint = new GatewayEndpoint(text[..colon].Trim('[', ']'), port);
        error = null;
        return true;
    }

    /// <summary>Parses "host:port"; throws <see cref="ArgumentException"/> naming the text otherwise.</summary>
    public static GatewayEndpoint Parse(string text)
        => TryParse(text, out var endpoint, out var error) ? endpoint! : throw new ArgumentException(error, nameof(text));

    /// <summary>The IPv4 endpoint this gateway names now; throws <see cref="ArgumentException"/> when the host cannot be resolved.</summary>
    public async Task<IPEndPoint> ResolveAsync(CancellationToken cancellationToken = default)
    {
        if (IPAddress.TryParse(Host, out var ip))
        {
            return new IPEndPoint(ip, Port);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(Host, cancellationToken);
            var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new ArgumentException($"Gateway host '{Host}' has no IPv4 address.");
            return new IPEndPoint(address, Port);
        }
        catch (SocketException ex)
        {
            throw new ArgumentException($"Gateway host '{Host}' cannot be resolved: {ex.Message}", ex);
        }
    }

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
