using MoeMesh.Devices;
using MoeMesh.Grains.Hosting.Clustering;
using MoeMesh.Security;

namespace MoeMesh.Grains.Hosting;

/// <summary>Configuration of a MoeMesh silo, bound from the <c>MoeMesh</c> section.</summary>
public sealed class MoeMeshSiloOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "MoeMesh";

    /// <summary>The box this silo runs on.</summary>
    public DeviceOptions Device { get; set; } = new();

    /// <summary>The experts this silo may host.</summary>
    public ExpertHostingOptions Experts { get; set; } = new();

    /// <summary>How silos find each other.</summary>
    public ClusteringOptions Clustering { get; set; } = new();

    /// <summary>Ports and the address other silos and clients use.</summary>
    public EndpointsOptions Endpoints { get; set; } = new();

    /// <summary>How the silo measures energy.</summary>
    public EnergyOptions Energy { get; set; } = new();

    /// <summary>How quickly a dead silo is noticed and voted out.</summary>
    public MembershipTuningOptions Membership { get; set; } = new();

    /// <summary>Transport security: mutual TLS against the mesh CA, or plain TCP where allowed.</summary>
    public MeshTlsOptions Tls { get; set; } = new();
}

/// <summary>Which energy meter a silo uses.</summary>
public enum EnergyMeterKind
{
    /// <summary>The first that works: NVML, then Jetson INA3221, then RAPL, then the device-profile model.</summary>
    Auto = 0,
    Nvml = 1,
    Ina3221 = 2,
    Rapl = 3,

    /// <summary>Estimate from the device profile: idle power when idle, maximum power while generating.</summary>
    Model = 4,
}

/// <summary>How the silo measures energy.</summary>
public sealed class EnergyOptions
{
    public EnergyMeterKind Meter { get; set; } = EnergyMeterKind.Auto;

    /// <summary>Where RAPL counters live.</summary>
    public string PowercapRoot { get; set; } = "/sys/class/powercap";

    /// <summary>Where the INA3221 driver's devices live on Jetson boards.</summary>
    public string I2cDriversRoot { get; set; } = "/sys/bus/i2c/drivers";
}

/// <summary>
/// The device profile: a ready-made profile by name (a file in <c>deploy/profiles/</c>) or path,
/// with any field overridable.
/// </summary>
public sealed class DeviceOptions
{
    /// <summary>Profile name (such as "rtx-4090-desktop") or path of a profile JSON file. Default: "cpu-box".</summary>
    public string Profile { get; set; } = "cpu-box";

    public string? Name { get; set; }

    public DeviceKind? Kind { get; set; }

    public long? MemoryBytes { get; set; }

    public double? MemoryBandwidthGBps { get; set; }

    public double? Fp16Tflops { get; set; }

    public double? IdlePowerWatts { get; set; }

    public double? MaxPowerWatts { get; set; }

    public string? Site { get; set; }
}

/// <summary>Which experts the silo may host and how much memory they may use.</summary>
public sealed class ExpertHostingOptions
{
    /// <summary>Manifest files, or folders whose <c>*.json</c> files are manifests.</summary>
    public List<string> Manifests { get; set; } = [];

    /// <summary>Memory models may use on this silo, in bytes; defaults to the device memory.</summary>
    public long? ModelMemoryBudgetBytes { get; set; }

    /// <summary>How a replica measures its engine once loaded.</summary>
    public CalibrationOptions Calibration { get; set; } = new();
}

/// <summary>The probe a replica runs on its own engine once loaded, so the router costs it from measurements.</summary>
public sealed class CalibrationOptions
{
    /// <summary>Run the probe at load (a few hundred ms on small models); off, the replica calibrates from its first runs.</summary>
    public bool ProbeAtLoad { get; set; } = true;

    /// <summary>Prompt tokens the probe prefills.</summary>
    public int ProbePromptTokens { get; set; } = 256;

    /// <summary>Tokens the probe decodes.</summary>
    public int ProbeOutputTokens { get; set; } = 32;
}

/// <summary>The membership provider.</summary>
public enum ClusteringProvider
{
    /// <summary>Every silo on one machine; the first silo is the primary. No external service.</summary>
    Localhost = 0,

    /// <summary>Membership in Redis (<see cref="ClusteringOptions.ConnectionString"/> is a Redis configuration string).</summary>
    Redis = 1,

    /// <summary>Membership in PostgreSQL through ADO.NET; MoeMesh creates the schema if it is missing.</summary>
    Postgres = 2,

    /// <summary>Clustering is configured by the host itself (tests, custom hosts).</summary>
    External = 3,
}

/// <summary>How silos find each other.</summary>
public sealed class ClusteringOptions
{
    public ClusteringProvider Provider { get; set; } = ClusteringProvider.Localhost;

    /// <summary>Redis or PostgreSQL connection string.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Silos and clients with the same cluster id form one mesh.</summary>
    public string ClusterId { get; set; } = "moemesh";

    /// <summary>Stable identity of the service across deployments.</summary>
    public string ServiceId { get; set; } = "moemesh";
}

/// <summary>Ports and advertised address.</summary>
public sealed class EndpointsOptions
{
    public const int DefaultSiloPort = 11111;
    public const int DefaultGatewayPort = 30000;

    /// <summary>Port for silo-to-silo traffic.</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>Address other boxes reach this silo at (IP or host name); defaults to the loopback for localhost clustering and the first non-loopback address otherwise.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>With localhost clustering, the silo port of the primary silo (the first one started).</summary>
    public int PrimarySiloPort { get; set; } = DefaultSiloPort;
}
