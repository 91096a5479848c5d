using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace MoeMesh.Dashboard.Hosting;

/// <summary>One address the dashboard listens on: scheme, interface and port.</summary>
public sealed record ListenAddress(string Scheme, IPAddress Address, int Port)
{
    public bool IsHttps => Scheme == "https";

    /// <summary>True when only this machine can connect.</summary>
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    /// <summary>The same port on the loopback interface.</summary>
    public ListenAddress OnLoopback() => this with { Address = Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback };

    public override string ToString()
    {
        var host = Address.Equals(IPAddress.Any) ? "0.0.0.0"
            : Address.Equals(IPAddress.IPv6Any) ? "[::]"
            : Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]"
            : Address.ToString();
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}://{host}:{Port}");
    }

    /// <summary>
    /// Parses <c>scheme://host:port</c>, where the scheme is http or https, the host an IP address,
    /// <c>localhost</c> (the IPv4 loopback), or <c>*</c>/<c>+</c> (every interface), and port 0 means any free port.
    /// </summary>
    public static bool TryParse(string? url, [NotNullWhen(true)] out ListenAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        error = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            error = "the URL is empty";
            return false;
        }

        var text = url.Trim();
        var separator = text.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            error = "expected scheme://host:port, such as http://127.0.0.1:5080";
            return false;
        }

        var scheme = text[..separator].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            error = $"the scheme must be http or https, got '{scheme}'";
            return false;
        }

        var rest = text[(separator + 3)..].TrimEnd('/');
        if (rest.Contains('/', StringComparison.Ordinal))
        {
            error = "a path is not supported; the dashboard is served at the root";
            return false;
        }

        if (!TrySplitHostPort(rest, out var host, out var port, out error) || !TryResolveHost(host, out var ip, out error))
        {
            return false;
        }

        address = new ListenAddress(scheme, ip, port);
        return true;
    }

    /// <summary>Splits "host:port" or "[ipv6]:port" and reads the port.</summary>
    private static bool TrySplitHostPort(string rest, out string host, out int port, [NotNullWhen(false)] out string? error)
    {
        host = "";
        port = 0;
        error = null;
        string portText;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= rest.Length || rest[close + 1] != ':')
            {
                error = "expected [ipv6-address]:port";
                return false;
            }

            host = rest[1..close];
            portText = rest[(close + 2)..];
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            if (colon <= 0)
            {
                error = "the port is missing, such as http://127.0.0.1:5080";
                return false;
            }

            host = rest[..colon];
            portText = rest[(colon + 1)..];
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            error = $"the port must be a number from 0 to 65535, got '{portText}'";
            return false;
        }

        return true;
    }

    /// <summary>An IP address, or localhost, or a wildcard (*, +, 0.0.0.0) for every address.</summary>
    private static bool TryResolveHost(string host, out IPAddress ip, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (host is "*" or "+" or "0.0.0.0")
        {
            ip = IPAddress.Any;
            return true;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            ip = IPAddress.Loopback;
            return true;
        }

        if (!IPAddress.TryParse(host, out var parsed))
        {
            ip = IPAddress.None;
            error = $"the host must be an IP address, localhost, * or +, got '{host}'";
            return false;
        }

        ip = parsed;
        return true;
    }
}
