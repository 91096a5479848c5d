using System.Collections.Frozen;
using MoeMesh.Experts;

namespace MoeMesh.Grains.Experts;

/// <summary>The manifests this silo loaded at start-up: the experts it may host.</summary>
public sealed class LocalExpertManifests
{
    private readonly FrozenDictionary<string, ExpertManifest> _byId;

    public LocalExpertManifests(IEnumerable<ExpertManifest> manifests)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        _byId = manifests.ToFrozenDictionary(m => m.Id, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<ExpertManifest> All => _byId.Values;

    public bool TryGet(string expertId, out ExpertManifest manifest) => _byId.TryGetValue(expertId, out manifest!);
}
