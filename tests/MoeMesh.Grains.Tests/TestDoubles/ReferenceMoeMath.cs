namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>The arithmetic of the reference MoE, in plain loops.</summary>
internal static class ReferenceMoeMath
{
    public static float[] RmsNorm(ReadOnlySpan<float> x, float epsilon)
    {
        var sum = 0.0;
        foreach (var v in x)
        {
            sum += v * v;
        }

        var scale = (float)(1 / Math.Sqrt((sum / x.Length) + epsilon));
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = x[i] * scale;
        }

        return y;
    }

    /// <summary>y = W·x with W rows × x.Length, row-major.</summary>
    public static float[] MatVec(float[] w, ReadOnlySpan<float> x, int rows)
    {
        var y = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            var sum = 0f;
            for (var c = 0; c < x.Length; c++)
            {
                sum += w[(r * x.Length) + c] * x[c];
            }

            y[r] = sum;
        }

        return y;
    }

    /// <summary>down(silu(gate·x) ⊙ up·x).</summary>
    public static float[] SwiGlu(float[] gate, float[] up, float[] down, ReadOnlySpan<float> x, int inner)
    {
        var g = MatVec(gate, x, inner);
        var u = MatVec(up, x, inner);
        for (var i = 0; i < inner; i++)
        {
            g[i] = g[i] / (1 + MathF.Exp(-g[i])) * u[i];
        }

        return MatVec(down, g, x.Length);
    }

    /// <summary>Softmax over all logits, top-k by probability, renormalised to sum to 1.</summary>
    public static (int[] Ids, float[] Weights) TopK(float[] logits, int k)
    {
        var max = logits.Max();
        var probabilities = logits.Select(l => MathF.Exp(l - max)).ToArray();
        var total = probabilities.Sum();
        var ids = Enumerable.Range(0, logits.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).Take(k).ToArray();
        var chosen = ids.Select(i => probabilities[i] / total).ToArray();
        var sum = chosen.Sum();
        return (ids, [.. chosen.Select(w => w / sum)]);
    }
}
