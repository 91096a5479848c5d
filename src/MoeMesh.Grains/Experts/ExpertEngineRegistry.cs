using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Experts;

/// <summary>Finds the engine provider for a manifest's engine name; the last registration for a name wins.</summary>
public sealed class ExpertEngineRegistry
{
    private readonly Dictionary<string, IExpertEngineProvider> _providers = new(StringComparer.OrdinalIgnoreCase);

    public ExpertEngineRegistry(IEnumerable<IExpertEngineProvider> providers)
    {
        foreach (var provider in providers)
        {
            _providers[provider.Engine] = provider;
        }
    }

    /// <summary>Engine names this silo can run.</summary>
    public IReadOnlyCollection<string> Engines => _providers.Keys;

    /// <summary>The provider for <paramref name="manifest"/>'s engine; throws when the silo has none.</summary>
    public IExpertEngineProvider For(ExpertManifest manifest)
        => _providers.TryGetValue(manifest.Engine, out var provider)
            ? provider
            : throw new ExpertUnavailableException(
                $"Expert '{manifest.Id}' needs the '{manifest.Engine}' engine, which this silo does not have (it has: {string.Join(", ", _providers.Keys)}).");
}
