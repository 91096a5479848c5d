using System.Text;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Experts;
using MoeMesh.Routing.Skills;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>An expert of the mesh as a text generator, so the LLM-backed skill extractor can ask it for keywords.</summary>
public sealed class ExpertTextGenerator(IGrainFactory grains, string expertId) : ITextGenerator
{
    public async Task<string> GenerateAsync(string prompt, TextGenerationSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var request = new GenerationRequest
        {
            Messages = [ChatTurn.User(prompt)],
            MaxTokens = settings.MaxTokens,
            Sampling = new SamplingOptions
            {
                Temperature = (float)settings.Temperature,
                Seed = settings.Seed is { } seed ? unchecked((uint)seed) : 42,
            },
            Overflow = PromptOverflowPolicy.TruncateStart,
        };
        var text = new StringBuilder();
        var expert = grains.GetGrain<IExpertGrain>(new ExpertReplica(expertId, 0).GrainKey);
        request = request.WithNewRunId();
        using var cancelOnExpert = expert.CancelOnExpertWhenCancelled(request, cancellationToken);
        await foreach (var chunk in expert.GenerateAsync(request, cancellationToken))
        {
            text.Append(chunk.Text);
        }

        return text.ToString();
    }
}
