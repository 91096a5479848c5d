using MoeMesh.Generation;
using MoeMesh.Inference.Llama.Native;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Builds llama.cpp's sampler chain for one request from <see cref="SamplingOptions"/>, in
/// llama.cpp's usual order: repetition penalty, then either greedy selection or top-k, top-p,
/// min-p, temperature and a seeded random draw. Each request gets its own chain, so penalties and
/// random state never leak between requests decoded together.
/// </summary>
internal static class LlamaSamplerChain
{
    public static SafeLlamaSamplerHandle Create(SamplingOptions sampling, int vocabularySize)
    {
        var chainParameters = LlamaNative.llama_sampler_chain_default_params();
        chainParameters.NoPerf = 1;
        var chain = LlamaNative.llama_sampler_chain_init(chainParameters);
        if (chain == 0)
        {
            throw new InvalidOperationException("llama.cpp could not create a sampler chain.");
        }

        var handle = new SafeLlamaSamplerHandle(chain);

        // The chain owns every sampler added to it and frees them with itself.
        if (sampling.RepetitionPenalty != 1f && sampling.RepetitionLastN != 0)
        {
            Add(LlamaNative.llama_sampler_init_penalties(vocabularySize, sampling.RepetitionLastN, sampling.RepetitionPenalty, 0f, 0f));
        }

        if (sampling.IsGreedy)
        {
            Add(LlamaNative.llama_sampler_init_greedy());
            return handle;
        }

        if (sampling.TopK > 0)
        {
            Add(LlamaNative.llama_sampler_init_top_k(sampling.TopK));
        }

        if (sampling.TopP < 1f)
        {
            Add(LlamaNative.llama_sampler_init_top_p(sampling.TopP, 1));
        }

        if (sampling.MinP > 0f)
        {
            Add(LlamaNative.llama_sampler_init_min_p(sampling.MinP, 1));
        }

        Add(LlamaNative.llama_sampler_init_temp(sampling.Temperature));

        // llama.cpp treats 0xFFFFFFFF as "pick a random seed"; keep every request reproducible.
        Add(LlamaNative.llama_sampler_init_dist(sampling.Seed == LlamaNative.DefaultSeed ? sampling.Seed - 1 : sampling.Seed));
        return handle;

        void Add(nint sampler)
        {
            if (sampler == 0)
            {
                handle.Dispose();
                throw new InvalidOperationException("llama.cpp could not create a sampler.");
            }

            LlamaNative.llama_sampler_chain_add(chain, sampler);
        }
    }
}
