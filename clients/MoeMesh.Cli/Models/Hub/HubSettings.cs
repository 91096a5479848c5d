using MoeMesh.Cli.Common;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>Where models come from and where they are kept: the hub endpoint, its token and the model cache.</summary>
public sealed record HubSettings
{
    /// <summary>The public Hugging Face hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub, or a mirror of it (<c>HF_ENDPOINT</c>).</summary>
    public Uri Endpoint { get; init; } = new(DefaultEndpoint);

    /// <summary>A Hugging Face access token for gated and private models (<c>HF_TOKEN</c>).</summary>
    public string? Token { get; init; }

    /// <summary>The model cache (<c>MOEMESH_MODELS_DIR</c>, else <c>models</c> in the MoeMesh home folder).</summary>
    public required string ModelsDirectory { get; init; }

    /// <summary>True when <c>HF_HUB_OFFLINE</c> asks never to touch the network.</summary>
    public bool Offline { get; init; }

    /// <summary>The settings the environment gives; throws <see cref="ArgumentException"/> for a malformed <c>HF_ENDPOINT</c>.</summary>
    public static HubSettings FromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT");
        var models = Environment.GetEnvironmentVariable("MOEMESH_MODELS_DIR");
        return new HubSettings
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? new Uri(DefaultEndpoint) : ParseEndpoint(endpoint),
            Token = Environment.GetEnvironmentVariable("HF_TOKEN") is { Length: > 0 } token ? token.Trim() : null,
            ModelsDirectory = Path.GetFullPath(string.IsNullOrWhiteSpace(models) ? Path.Combine(LocalMeshState.Home, "models") : models),
            Offline = IsTrue(Environment.GetEnvironmentVariable("HF_HUB_OFFLINE")),
        };
    }

    /// <summary>An absolute http(s) URL, without a trailing slash.</summary>
    public static Uri ParseEndpoint(string value)
    {
        if (!Uri.TryCreate(value.Trim().TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"HF_ENDPOINT \"{value}\" is not an http(s) URL such as {DefaultEndpoint}.");
        }

        return uri;
    }

    private static bool IsTrue(string? value)
        => value?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on";
}
