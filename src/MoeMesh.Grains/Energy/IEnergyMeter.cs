using MoeMesh.Generation;

namespace MoeMesh.Grains.Energy;

/// <summary>
/// Reads the energy a silo's device has used. Real meters read hardware counters; the model
/// meter estimates from the device profile when no counter exists.
/// </summary>
public interface IEnergyMeter
{
    /// <summary>Which meter this is: "nvml", "ina3221", "rapl" or "model".</summary>
    MeterKind Kind { get; }

    /// <summary>What it reads (a device, a sysfs path), for people.</summary>
    string Source { get; }

    /// <summary>Energy used since an arbitrary origin, in joules; never decreases.</summary>
    double ReadJoules();

    /// <summary>Power now, in watts, when the meter can tell.</summary>
    double? ReadWatts();
}

/// <summary>Lets a meter know how busy the device is; the model meter needs it, hardware meters ignore it.</summary>
public interface IDeviceActivity
{
    /// <summary>Generations running on the device now.</summary>
    int ActiveGenerations { get; }
}
