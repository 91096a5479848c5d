using System.Globalization;

namespace MoeMesh.TokenPath;

/// <summary>
/// Names one replica of one shard of a Mixture-of-Experts model: the routed experts
/// [<see cref="FirstExpert"/>, <see cref="FirstExpert"/> + <see cref="ExpertCount"/>) of one layer,
/// the layer's shard number <see cref="Shard"/>. The grain key is "<c>{model}/{layer}/{shard}:{first}+{count}/{replica}</c>".
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-shard-key")]
public readonly record struct ExpertShardKey(
    [property: Id(0)] string ModelId,
    [property: Id(1)] int Layer,
    [property: Id(2)] int Shard,
    [property: Id(3)] int FirstExpert,
    [property: Id(4)] int ExpertCount,
    [property: Id(5)] int Replica)
{
    /// <summary>The grain key of this shard replica.</summary>
    public string GrainKey => string.Create(CultureInfo.InvariantCulture, $"{ModelId}/{Layer}/{Shard}:{FirstExpert}+{ExpertCount}/{Replica}");

    /// <summary>Whether this shard holds <paramref name="expert"/>.</summary>
    public bool Holds(int expert) => expert >= FirstExpert && expert < FirstExpert + ExpertCount;

    /// <summary>The experts this shard holds.</summary>
    public IReadOnlyList<int> Experts => [.. Enumerable.Range(FirstExpert, ExpertCount)];

    /// <summary>Parses a key written by <see cref="GrainKey"/>.</summary>
    public static ExpertShardKey Parse(string grainKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(grainKey);
        var parts = grainKey.Split('/');
        var n = parts.Length;
        var range = n >= 4 ? parts[n - 2].Split(':', '+') : [];
        if (n < 4 || range.Length != 3
            || !TryInt(parts[n - 3], out var layer) || !TryInt(range[0], out var shard) || !TryInt(range[1], out var first)
            || !TryInt(range[2], out var count) || count < 1 || !TryInt(parts[n - 1], out var replica))
        {
            throw new FormatException($"Expert shard key '{grainKey}' is not of the form '<model>/<layer>/<shard>:<first>+<count>/<replica>'.");
        }

        return new ExpertShardKey(string.Join('/', parts[..(n - 3)]), layer, shard, first, count, replica);
    }

    /// <inheritdoc/>
    public override string ToString() => GrainKey;

    private static bool TryInt(string text, out int value)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
