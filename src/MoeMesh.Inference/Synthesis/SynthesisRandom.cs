namespace MoeMesh.Inference.Synthesis;

/// <summary>
/// xoshiro256** seeded through SplitMix64, with normal deviates from a sum of uniforms. Only
/// integer arithmetic and IEEE-exact float operations are used, so a seed gives the same weights
/// on every machine and .NET version (<see cref="Random"/> and Math.Log/Cos make no such promise).
/// </summary>
internal sealed class SynthesisRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SynthesisRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound) => (int)(NextUInt64() % (ulong)bound);

    /// <summary>
    /// Approximately standard normal: the sum of four uniforms, centred and scaled to unit variance
    /// (Irwin–Hall). Bounded tails are fine, even welcome, for synthetic weights.
    /// </summary>
    public float NextNormal()
    {
        var sum = NextDouble() + NextDouble() + NextDouble() + NextDouble();
        return (float)((sum - 2.0) * 1.7320508075688772);
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
