using System.Net;
using System.Text.RegularExpressions;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Works out which silo a failed call to an expert could not reach. The silo the plan chose is not
/// necessarily it: a call to a replica on a healthy silo is first addressed through the grain
/// directory, and while a killed silo still owns that directory partition (until membership declares
/// it dead) the call fails with a connection error to the killed silo. Blaming the planned silo then
/// takes healthy silos out of every plan, one failure at a time, until none is left.
/// </summary>
public static partial class UndeliveredSilo
{
    /// <summary>
    /// The silo to avoid after <paramref name="failure"/>, or null when it was no delivery failure
    /// or names no silo. Order of evidence: the silo the failure says it could not connect to (or
    /// the message's target silo); else <paramref name="reportedSilo"/>, where the expert had begun
    /// answering before the link broke. The planned silo alone is no evidence.
    /// </summary>
    public static string? Find(Exception failure, string? reportedSilo)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (!IsDeliveryFailure(failure))
        {
            return null;
        }

        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (Named(e.Message) is { } named)
            {
                return named;
            }
        }

        return reportedSilo;
    }

    /// <summary>True when the message did not reach, or lost, the grain's silo (as opposed to the expert failing there).</summary>
    public static bool IsDeliveryFailure(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is OrleansMessageRejectionException or SiloUnavailableException || e.GetType().Name == "ConnectionFailedException")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The silo named by Orleans' wording: "connect to [endpoint] S…" or a message's "->[S… " target.</summary>
    private static string? Named(string message)
    {
        var match = ConnectTarget().Match(message);
        if (!match.Success)
        {
            match = MessageTarget().Match(message);
        }

        if (!match.Success
            || !IPAddress.TryParse(match.Groups["ip"].Value.Trim('[', ']'), out var ip)
            || !int.TryParse(match.Groups["port"].Value, out var port) || port is <= 0 or > 65535
            || !int.TryParse(match.Groups["gen"].Value, out var generation))
        {
            return null;
        }

        return SiloIdentity.NameOf(SiloAddress.New(ip, port, generation));
    }

    private const string Address = @"S(?<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):(?<port>\d+):(?<gen>-?\d+)";

    [GeneratedRegex(@"connect to (?:endpoint )?" + Address, RegexOptions.CultureInvariant)]
    private static partial Regex ConnectTarget();

    [GeneratedRegex(@"->\[" + Address + " ", RegexOptions.CultureInvariant)]
    private static partial Regex MessageTarget();
}
