using System.Collections.Concurrent;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Grains.Experts;
using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// This silo's Mixture-of-Experts models: the GGUF path of each "moe" manifest, and the loaded
/// backbones, shared by every sequence on the silo.
/// </summary>
internal sealed class MoeModelFiles(LocalExpertManifests manifests, IServiceProvider services) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<IMoeBackbone>> _backbones = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MoeModelShape> _shapes = new(StringComparer.Ordinal);

    public ExpertManifest Manifest(string modelId)
        => manifests.TryGet(modelId, out var manifest) && manifest.Engine == ExpertEngines.Moe
            ? manifest
            : throw new ExpertUnavailableException($"This silo holds no manifest of a Mixture-of-Experts model '{modelId}' (engine \"{ExpertEngines.Moe}\").");

    public string PathOf(string modelId)
        => Manifest(modelId).ModelPath ?? throw new ExpertUnavailableException($"Model '{modelId}' has no modelPath.");

    public IMoeModelLoader Loader(string modelId)
        => (IMoeModelLoader?)services.GetService(typeof(IMoeModelLoader)) ?? throw NoLoader(modelId);

    public IMoeBackbone Backbone(string modelId)
        => _backbones.GetOrAdd(modelId, id => new Lazy<IMoeBackbone>(() => Loader(id).LoadBackbone(PathOf(id)))).Value;

    /// <summary>The model's shape from its GGUF header (no weights are read), once per model.</summary>
    public MoeModelShape Shape(string modelId)
        => _shapes.GetOrAdd(modelId, id => Loader(id).ReadShape(PathOf(id)));

    public static ExpertUnavailableException NoLoader(string modelId)
        => new($"Model '{modelId}' needs a Mixture-of-Experts model loader (IMoeModelLoader), and none is registered on this silo.");

    public void Dispose()
    {
        foreach (var backbone in _backbones.Values.Where(b => b.IsValueCreated))
        {
            backbone.Value.Dispose();
        }
    }
}
