using MoeMesh.Devices;

namespace MoeMesh.Grains.Hosting;

/// <summary>This silo's address as MoeMesh names it, and its device.</summary>
public sealed class SiloIdentity(ILocalSiloDetails details, DeviceProfile device)
{
    /// <summary>The silo's name in plans, catalogs and reports.</summary>
    public string Name => NameOf(details.SiloAddress);

    public SiloAddress Address => details.SiloAddress;

    public DeviceProfile Device { get; } = device;

    /// <summary>The name MoeMesh uses for <paramref name="silo"/> everywhere.</summary>
    public static string NameOf(SiloAddress silo) => silo.ToParsableString();
}
