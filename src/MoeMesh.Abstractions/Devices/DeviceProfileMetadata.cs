using System.Globalization;

namespace MoeMesh.Devices;

/// <summary>Turns a <see cref="DeviceProfile"/> into silo metadata entries and back.</summary>
public static class DeviceProfileMetadata
{
    /// <summary>The metadata entries describing <paramref name="profile"/>.</summary>
    public static Dictionary<string, string> ToMetadata(DeviceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var c = CultureInfo.InvariantCulture;
        return new Dictionary<string, string>
        {
            [SiloMetadataKeys.DeviceName] = profile.Name,
            [SiloMetadataKeys.DeviceKind] = profile.Kind.ToString(),
            [SiloMetadataKeys.MemoryBytes] = profile.MemoryBytes.ToString(c),
            [SiloMetadataKeys.MemoryBandwidthGBps] = profile.MemoryBandwidthGBps.ToString("R", c),
            [SiloMetadataKeys.Fp16Tflops] = profile.Fp16Tflops.ToString("R", c),
            [SiloMetadataKeys.IdlePowerWatts] = profile.IdlePowerWatts.ToString("R", c),
            [SiloMetadataKeys.MaxPowerWatts] = profile.MaxPowerWatts.ToString("R", c),
            [SiloMetadataKeys.Site] = profile.Site,
        };
    }

    /// <summary>Reads a profile from silo metadata; <see langword="null"/> when the silo published none (not a MoeMesh silo).</summary>
    public static DeviceProfile? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(SiloMetadataKeys.DeviceName, out var name)
            || !metadata.TryGetValue(SiloMetadataKeys.DeviceKind, out var kindText)
            || !Enum.TryParse<DeviceKind>(kindText, ignoreCase: true, out var kind))
        {
            return null;
        }

        return new DeviceProfile
        {
            Name = name,
            Kind = kind,
            MemoryBytes = ReadLong(metadata, SiloMetadataKeys.MemoryBytes),
            MemoryBandwidthGBps = ReadDouble(metadata, SiloMetadataKeys.MemoryBandwidthGBps),
            Fp16Tflops = ReadDouble(metadata, SiloMetadataKeys.Fp16Tflops),
            IdlePowerWatts = ReadDouble(metadata, SiloMetadataKeys.IdlePowerWatts),
            MaxPowerWatts = ReadDouble(metadata, SiloMetadataKeys.MaxPowerWatts),
            Site = metadata.TryGetValue(SiloMetadataKeys.Site, out var site) ? site : "local",
        };
    }

    /// <summary>The expert ids a silo says it may host.</summary>
    public static IReadOnlySet<string> HostedExperts(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.TryGetValue(SiloMetadataKeys.HostedExperts, out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>The memory a silo lets models use, or the device memory when it set no budget.</summary>
    public static long ModelMemoryBudget(IReadOnlyDictionary<string, string> metadata, DeviceProfile profile)
        => metadata.TryGetValue(SiloMetadataKeys.ModelMemoryBudgetBytes, out var text)
           && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var budget)
            ? budget
            : profile.MemoryBytes;

    private static long ReadLong(IReadOnlyDictionary<string, string> metadata, string key)
        => metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static double ReadDouble(IReadOnlyDictionary<string, string> metadata, string key)
        => metadata.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
}
