using System.Globalization;

namespace MoeMesh.Experts;

/// <summary>
/// Names one replica of an expert. The expert grain key is "<c>{expertId}/{replica}</c>", so
/// replicas are distinct activations that placement spreads over silos.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-replica")]
public readonly record struct ExpertReplica([property: Id(0)] string ExpertId, [property: Id(1)] int Replica)
{
    /// <summary>The grain key of this replica.</summary>
    public string GrainKey => string.Create(CultureInfo.InvariantCulture, $"{ExpertId}/{Replica}");

    /// <summary>Parses a grain key written by <see cref="GrainKey"/>.</summary>
    public static ExpertReplica Parse(string grainKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(grainKey);
        var slash = grainKey.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(grainKey.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var replica))
        {
            throw new FormatException($"Expert grain key '{grainKey}' is not of the form '<expert-id>/<replica>'.");
        }

        return new ExpertReplica(grainKey[..slash], replica);
    }

    /// <inheritdoc/>
    public override string ToString() => GrainKey;
}
