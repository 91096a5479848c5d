using System.Runtime.CompilerServices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Residency;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Experts.Engines;

/// <summary>
/// Marks the model busy in the silo's residency cache while it generates (busy models are never
/// unloaded) and keeps the replica's load: sequences running now, runs served, last use.
/// </summary>
public sealed class ResidencyTrackingExpertEngine(IExpertEngine inner, ExpertResidency residency, ExpertReplica replica, TimeProvider time) : DelegatingExpertEngine(inner)
{
    private int _active;
    private long _served;
    private long _lastUsedTicks = time.GetUtcNow().UtcTicks;

    /// <summary>The generations running on the silo's engines, of all replicas.</summary>
    public SiloGenerations Generations => residency.Generations;

    /// <summary>Generations running in the engine now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Generations that ran to their final metrics.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>When a generation last started or ended.</summary>
    public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    public override async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _active);
        Touch();
        residency.BeginUse(replica);
        try
        {
            await foreach (var chunk in Inner.GenerateAsync(request, cancellationToken))
            {
                if (chunk.IsFinal)
                {
                    Interlocked.Increment(ref _served);
                }

                yield return chunk;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _active);
            Touch();
            residency.EndUse(replica);
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastUsedTicks, time.GetUtcNow().UtcTicks);
}
