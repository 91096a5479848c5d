using MoeMesh.Experts;
using MoeMesh.Generation;

namespace MoeMesh.Inference.Engines;

/// <summary>
/// A loaded model that generates text. Implementations are safe to call concurrently: requests
/// are queued or decoded together, never interleaved in one context.
/// </summary>
public interface IExpertEngine : IAsyncDisposable
{
    /// <summary>The manifest the model was loaded from.</summary>
    ExpertManifest Manifest { get; }

    /// <summary>Memory the loaded model holds, in bytes (weights plus context buffers).</summary>
    long ResidentBytes { get; }

    /// <summary>
    /// Streams generated text; the last chunk carries the metrics. Invalid requests throw
    /// <see cref="Errors.InvalidRequestException"/> before any text is produced. Cancelling stops
    /// decoding promptly and ends the stream with <see cref="OperationCanceledException"/>.
    /// </summary>
    IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);
}

/// <summary>Loads models for one engine name (see <see cref="ExpertEngines"/>).</summary>
public interface IExpertEngineProvider
{
    /// <summary>The engine name this provider serves, such as <see cref="ExpertEngines.LlamaCpp"/>.</summary>
    string Engine { get; }

    /// <summary>
    /// Loads the model of <paramref name="manifest"/> (whose <see cref="ExpertManifest.ModelPath"/> is absolute).
    /// Failures throw <see cref="Errors.ExpertUnavailableException"/> with the reason; the process survives.
    /// </summary>
    Task<IExpertEngine> LoadAsync(ExpertManifest manifest, IProgress<double>? progress = null, CancellationToken cancellationToken = default);
}
