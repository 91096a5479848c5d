using MoeMesh.Experts;
using MoeMesh.Generation;

namespace MoeMesh.Inference.Engines;

/// <summary>
/// An engine that passes everything to an inner engine; derive from it to add one concern
/// (metrics, energy, deadlines) around generation without touching the engine that computes tokens.
/// </summary>
public abstract class DelegatingExpertEngine : IExpertEngine
{
    protected DelegatingExpertEngine(IExpertEngine inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The engine this one wraps.</summary>
    protected IExpertEngine Inner { get; }

    public virtual ExpertManifest Manifest => Inner.Manifest;

    public virtual long ResidentBytes => Inner.ResidentBytes;

    public virtual IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
        => Inner.GenerateAsync(request, cancellationToken);

    /// <summary>Finds a service of type <typeparamref name="T"/> in this chain: this engine or one it wraps.</summary>
    public T? GetService<T>()
        where T : class
        => this as T ?? (Inner as DelegatingExpertEngine)?.GetService<T>() ?? Inner as T;

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Inner.DisposeAsync();
    }
}
