using System.Runtime.CompilerServices;
using MoeMesh.Generation;
using MoeMesh.Grains.Telemetry;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Experts.Engines;

/// <summary>Traces each generation and records its tokens and decode speed in the mesh's meters.</summary>
public sealed class InstrumentedExpertEngine(IExpertEngine inner, string silo) : DelegatingExpertEngine(inner)
{
    public override async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var activity = MoeMeshInstrumentation.Source.StartActivity("moemesh.generate");
        activity?.SetTag("moemesh.expert", Manifest.Id);
        activity?.SetTag("moemesh.silo", silo);
        await foreach (var chunk in Inner.GenerateAsync(request, cancellationToken))
        {
            if (chunk.Metrics is { } metrics)
            {
                var expertTag = new KeyValuePair<string, object?>("expert", Manifest.Id);
                MoeMeshInstrumentation.TokensGenerated.Add(metrics.GeneratedTokens, expertTag);
                if (metrics.DecodeTokensPerSecond > 0)
                {
                    MoeMeshInstrumentation.DecodeSpeed.Record(metrics.DecodeTokensPerSecond, expertTag);
                }

                activity?.SetTag("moemesh.tokens", metrics.GeneratedTokens);
                activity?.SetTag("moemesh.finish", metrics.FinishReason.ToString());
            }

            yield return chunk;
        }
    }
}
