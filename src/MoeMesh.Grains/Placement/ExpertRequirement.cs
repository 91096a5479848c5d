using System.Globalization;
using MoeMesh.Devices;
using MoeMesh.Experts;

namespace MoeMesh.Grains.Placement;

/// <summary>
/// What a replica of an expert needs from a silo, published in silo metadata by every silo that
/// holds the expert's manifest, so placement can decide without asking any grain.
/// </summary>
public sealed record ExpertRequirement(long WeightBytes, long MinFreeMemoryBytes, IReadOnlyList<DeviceKind> DeviceKinds)
{
    /// <summary>The metadata key for <paramref name="expertId"/>.</summary>
    public static string MetadataKey(string expertId) => SiloMetadataKeys.Prefix + "expert." + expertId;

    /// <summary>Bytes the replica needs on the device: weights plus the free margin the manifest asks for.</summary>
    public long RequiredBytes => WeightBytes + MinFreeMemoryBytes;

    public static ExpertRequirement From(ExpertManifest manifest)
        => new(manifest.WeightBytes, manifest.Placement.MinFreeMemoryBytes, manifest.Placement.DeviceKinds);

    public bool AllowsKind(DeviceKind kind) => DeviceKinds.Count == 0 || DeviceKinds.Contains(kind);

    /// <summary>Compact text form stored as a metadata value.</summary>
    public string Format()
        => string.Create(CultureInfo.InvariantCulture, $"bytes={WeightBytes};minfree={MinFreeMemoryBytes};kinds={string.Join(',', DeviceKinds)}");

    /// <summary>Parses <see cref="Format"/>'s output; null when malformed.</summary>
    public static ExpertRequirement? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        long bytes = 0, minFree = 0;
        var kinds = new List<DeviceKind>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                return null;
            }

            var key = part[..eq];
            var value = part[(eq + 1)..];
            switch (key)
            {
                case "bytes" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b):
                    bytes = b;
                    break;
                case "minfree" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m):
                    minFree = m;
                    break;
                case "kinds":
                    foreach (var k in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (!Enum.TryParse<DeviceKind>(k, ignoreCase: true, out var kind))
                        {
                            return null;
                        }

                        kinds.Add(kind);
                    }

                    break;
                default:
                    return null;
            }
        }

        return new ExpertRequirement(bytes, minFree, kinds);
    }
}
