using LLama.Native;
using MoeMesh.Generation;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Builds llama.cpp's sampler chain for one request from <see cref="SamplingOptions"/>, in
/// llama.cpp's usual order: repetition penalty, then either greedy selection or top-k, top-p,
/// min-p, temperature and a seeded random draw. Each request gets its own chain, so penalties and
/// random state never leak between requests decoded together.
/// </summary>
internal static class LlamaSamplerChain
{
    /// <summary>The seed llama.cpp reads as "pick one at random".</summary>
    public const uint RandomSeed = 0xFFFFFFFF;

    /// <summary>A chain for a request about to read <paramref name="prompt"/>: a repetition penalty also looks at the prompt's last tokens.</summary>
    public static SafeLLamaSamplerChainHandle ForPrompt(SamplingOptions sampling, ReadOnlySpan<int> prompt)
    {
        var chain = Create(sampling);
        if (sampling.RepetitionPenalty != 1f)
        {
            foreach (var token in prompt[Math.Max(0, prompt.Length - sampling.RepetitionLastN)..])
            {
                chain.Accept(token);
            }
        }

        return chain;
    }

    public static SafeLLamaSamplerChainHandle Create(SamplingOptions sampling)
    {
        var parameters = LLamaSamplerChainParams.Default();
        parameters.NoPerf = true;
        var chain = SafeLLamaSamplerChainHandle.Create(parameters);
        try
        {
            // The chain owns every sampler added to it and frees them with itself.
            if (sampling.RepetitionPenalty != 1f && sampling.RepetitionLastN != 0)
            {
                chain.AddPenalties(sampling.RepetitionLastN, sampling.RepetitionPenalty, 0f, 0f);
            }

            if (sampling.IsGreedy)
            {
                chain.AddGreedySampler();
                return chain;
            }

            if (sampling.TopK > 0)
            {
                chain.AddTopK(sampling.TopK);
            }

            if (sampling.TopP < 1f)
            {
                chain.AddTopP(sampling.TopP, 1);
            }

            if (sampling.MinP > 0f)
            {
                chain.AddMinP(sampling.MinP, 1);
            }

            chain.AddTemperature(sampling.Temperature);

            // Keep every request reproducible: never hand llama.cpp its "random seed" value.
            chain.AddDistributionSampler(sampling.Seed == RandomSeed ? sampling.Seed - 1 : sampling.Seed);
            return chain;
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }
}
