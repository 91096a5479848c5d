namespace MoeMesh.Inference.Moe.Execution;

/// <summary>The gate of an MoE layer: softmax over the router logits, top-k by probability, and the architecture's normalisation.</summary>
public static class MoeGate
{
    /// <summary>
    /// Fills <paramref name="expertIds"/> and <paramref name="weights"/> (T × k, best first) from
    /// <paramref name="logits"/> (T × E). Equal probabilities keep the lower expert index first.
    /// </summary>
    public static void Route(ReadOnlySpan<float> logits, int tokens, int experts, int k, MoeGating gating, Span<int> expertIds, Span<float> weights)
    {
        Span<float> probabilities = experts <= 256 ? stackalloc float[experts] : new float[experts];
        for (var t = 0; t < tokens; t++)
        {
            var row = logits.Slice(t * experts, experts);
            var max = float.NegativeInfinity;
            foreach (var value in row)
            {
                max = MathF.Max(max, value);
            }

            var sum = 0f;
            for (var e = 0; e < experts; e++)
            {
                probabilities[e] = MathF.Exp(row[e] - max);
                sum += probabilities[e];
            }

            for (var e = 0; e < experts; e++)
            {
                probabilities[e] /= sum;
            }

            var ids = expertIds.Slice(t * k, k);
            var w = weights.Slice(t * k, k);
            for (var slot = 0; slot < k; slot++)
            {
                var best = -1;
                for (var e = 0; e < experts; e++)
                {
                    if (probabilities[e] >= 0 && (best < 0 || probabilities[e] > probabilities[best]))
                    {
                        best = e;
                    }
                }

                ids[slot] = best;
                w[slot] = probabilities[best];
                probabilities[best] = -1;
            }

            if (gating == MoeGating.SoftmaxTopKRenormalized)
            {
                var total = 0f;
                foreach (var value in w)
                {
                    total += value;
                }

                for (var slot = 0; slot < k; slot++)
                {
                    w[slot] /= total;
                }
            }
        }
    }
}
