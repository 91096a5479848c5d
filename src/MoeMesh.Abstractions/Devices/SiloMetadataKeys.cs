namespace MoeMesh.Devices;

/// <summary>
/// Keys under which a silo publishes its device and hostable experts as Orleans silo metadata.
/// Metadata is static for the silo's lifetime, so it carries capabilities only; live power,
/// memory and latency travel through grains.
/// </summary>
public static class SiloMetadataKeys
{
    /// <summary>Prefix shared by every MoeMesh key.</summary>
    public const string Prefix = "moemesh.";

    public const string DeviceName = Prefix + "device.name";
    public const string DeviceKind = Prefix + "device.kind";
    public const string MemoryBytes = Prefix + "device.memory-bytes";
    public const string MemoryBandwidthGBps = Prefix + "device.bandwidth-gbps";
    public const string Fp16Tflops = Prefix + "device.fp16-tflops";
    public const string IdlePowerWatts = Prefix + "device.idle-watts";
    public const string MaxPowerWatts = Prefix + "device.max-watts";
    public const string Site = Prefix + "device.site";

    /// <summary>Comma-separated ids of the experts whose manifests this silo holds and may host.</summary>
    public const string HostedExperts = Prefix + "experts";

    /// <summary>Memory the silo lets models use, in bytes (at most the device memory).</summary>
    public const string ModelMemoryBudgetBytes = Prefix + "memory-budget-bytes";

    /// <summary>Prefix of one entry per hostable expert holding its manifest as compact JSON.</summary>
    public const string ManifestPrefix = Prefix + "manifest.";

    /// <summary>The endpoint clients reach this silo's gateway at ("host:port").</summary>
    public const string Gateway = Prefix + "gateway";
}
