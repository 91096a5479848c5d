namespace MoeMesh.Routing.Skills;

/// <summary>Finds the skills (short keywords such as "organic chemistry") a question needs.</summary>
public interface ISkillExtractor
{
    /// <summary>The skills of <paramref name="question"/>, most important first; empty when none were found.</summary>
    ValueTask<IReadOnlyList<string>> ExtractAsync(string question, CancellationToken cancellationToken = default);
}

/// <summary>How a <see cref="ITextGenerator"/> should sample.</summary>
/// <param name="Temperature">Sampling temperature; 0 is greedy.</param>
/// <param name="Seed">Seed for the sampler, so repeated prompts can differ reproducibly; null lets the generator choose.</param>
/// <param name="MaxTokens">The most tokens to generate.</param>
public sealed record TextGenerationSettings(double Temperature, int? Seed, int MaxTokens);

/// <summary>
/// A model that turns a prompt into text: the seam through which the live mesh plugs an expert
/// into routing helpers such as <see cref="LlmSkillExtractor"/>.
/// </summary>
public interface ITextGenerator
{
    /// <summary>Generates a completion of <paramref name="prompt"/>.</summary>
    Task<string> GenerateAsync(string prompt, TextGenerationSettings settings, CancellationToken cancellationToken = default);
}
