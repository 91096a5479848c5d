using System.Runtime.CompilerServices;
using MoeMesh.Generation;
using MoeMesh.Grains.Energy;
using MoeMesh.Inference.Engines;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Experts.Engines;

/// <summary>
/// Charges each generation its share of the silo meter's increment over idle while it runs (see
/// <see cref="EnergyAccountant"/>) and puts it on the final metrics, named by the meter. An engine
/// that accounts its own energy keeps its figure.
/// </summary>
public sealed class EnergyAccountingExpertEngine(IExpertEngine inner, EnergyAccountant energy) : DelegatingExpertEngine(inner)
{
    public override async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var scope = energy.Begin();
        await foreach (var chunk in Inner.GenerateAsync(request, cancellationToken))
        {
            if (chunk.Metrics is { } metrics)
            {
                var joules = scope.Complete();
                yield return metrics.EnergyJoules is null
                    ? chunk with { Metrics = metrics with { EnergyJoules = joules, EnergySource = energy.Meter.Kind.ToWireName() } }
                    : chunk with { Metrics = metrics with { EnergySource = metrics.EnergySource ?? MeterKind.Engine.ToWireName() } };
                continue;
            }

            yield return chunk;
        }
    }
}
