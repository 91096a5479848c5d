using MoeMesh.Activations;

namespace MoeMesh.Abstractions.Tests.Activations;

/// <summary>Deterministic random frames for the codec tests.</summary>
internal static class FrameSamples
{
    public static ActivationFrame Random(int seed)
    {
        var random = new Random(seed);
        var tokens = random.Next(1, 6);
        var hidden = random.Next(1, 100);
        var k = random.Next(0, 5);
        var kind = k == 0 ? ActivationFrameKind.ExpertOutput : (ActivationFrameKind)random.Next(2);
        var dtype = (ActivationDType)random.Next(4);
        var values = Values(random, tokens * hidden);
        return ActivationFrame.Create(
            kind, "model-" + random.Next(1000), random.Next(64), "seq/" + random.Next(), [.. Enumerable.Range(random.Next(100), tokens)],
            values, hidden, dtype, k,
            [.. Enumerable.Range(0, tokens * k).Select(_ => random.Next(-1, 64))],
            [.. Enumerable.Range(0, tokens * k).Select(_ => (float)random.NextDouble())]);
    }

    public static float[] Values(Random random, int count)
        => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * 4f)];

    /// <summary>A valid frame with one of five kinds of damage: bit flips, truncation, junk bytes inserted, a byte overwritten, or random bytes.</summary>
    public static byte[] Damaged(Random random, byte[] valid)
    {
        var bytes = valid.ToList();
        switch (random.Next(5))
        {
            case 0:
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    var at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                }

                break;
            case 1:
                return [.. bytes.Take(random.Next(bytes.Count))];
            case 2:
                bytes.InsertRange(random.Next(bytes.Count + 1), Enumerable.Range(0, random.Next(1, 6)).Select(_ => (byte)random.Next(256)));
                break;
            case 3:
                bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            default:
                var junk = new byte[random.Next(0, 64)];
                random.NextBytes(junk);
                return junk;
        }

        return [.. bytes];
    }
}
