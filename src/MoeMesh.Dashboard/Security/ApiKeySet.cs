using System.Security.Cryptography;
using System.Text;

namespace MoeMesh.Dashboard.Security;

/// <summary>
/// The configured API keys, held only as SHA-256 digests. Keys and session tokens are compared by
/// digest with <see cref="CryptographicOperations.FixedTimeEquals"/> against every configured key, so
/// neither the time taken nor the key lengths tell an attacker anything.
/// </summary>
public sealed class ApiKeySet
{
    private static readonly byte[] SessionLabel = "moemesh.dashboard.session.v1"u8.ToArray();

    private readonly byte[][] _keyDigests;
    private readonly byte[][] _sessionDigests;

    public ApiKeySet(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.Where(k => !string.IsNullOrEmpty(k)).Distinct(StringComparer.Ordinal).ToList();
        _keyDigests = list.Select(k => Digest(k)).ToArray();
        _sessionDigests = list.Select(k => Digest(SessionTokenFor(k))).ToArray();
    }

    /// <summary>True when at least one key is configured.</summary>
    public bool Required => _keyDigests.Length > 0;

    /// <summary>True when <paramref name="candidate"/> is one of the keys.</summary>
    public bool IsValidKey(string? candidate) => candidate is not null && AnyMatch(_keyDigests, Digest(candidate));

    /// <summary>True when <paramref name="token"/> is the session token of one of the keys.</summary>
    public bool IsValidSession(string? token) => token is not null && AnyMatch(_sessionDigests, Digest(token));

    /// <summary>
    /// The dashboard cookie's value for <paramref name="key"/>: an HMAC of a fixed label under the key, so the
    /// cookie never holds the key itself and every session ends when the key is removed.
    /// </summary>
    public static string SessionTokenFor(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), SessionLabel);
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    private static bool AnyMatch(byte[][] digests, byte[] candidate)
    {
        // No early exit: every configured key is compared whatever the outcome.
        var match = false;
        foreach (var digest in digests)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, candidate);
        }

        return match;
    }
}
