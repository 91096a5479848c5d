using MoeMesh.Devices;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Grains.Energy;

/// <summary>The meter chosen for a silo and why the others were not.</summary>
public sealed record EnergyMeterChoice(IEnergyMeter Meter, IReadOnlyList<string> Skipped);

/// <summary>Picks the silo's energy meter from what the box offers.</summary>
public static class EnergyMeterSelector
{
    /// <summary>
    /// With <see cref="EnergyMeterKind.Auto"/>: NVML (desktop GPUs), then INA3221 (Jetson), then RAPL
    /// (CPU packages), then the device-profile model. A specific kind that is unavailable is a
    /// configuration error naming the reason.
    /// </summary>
    public static EnergyMeterChoice Select(EnergyOptions options, DeviceProfile device, TimeProvider time, Func<TimeProvider, (IEnergyMeter? Meter, string? Reason)>? nvml = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        nvml ??= t =>
        {
            var meter = NvmlEnergyMeter.TryCreate(t, out var reason);
            return (meter, reason);
        };

        var skipped = new List<string>();
        IEnergyMeter? Try(EnergyMeterKind kind)
        {
            (IEnergyMeter? meter, string? reason) = kind switch
            {
                EnergyMeterKind.Nvml => nvml(time),
                EnergyMeterKind.Ina3221 => (Ina3221EnergyMeter.TryCreate(options.I2cDriversRoot, time, out var r1), r1),
                EnergyMeterKind.Rapl => (RaplEnergyMeter.TryCreate(options.PowercapRoot, time, out var r2), r2),
                _ => (new DeviceModelEnergyMeter(device, time), null),
            };
            if (meter is null)
            {
                skipped.Add($"{kind.ToString().ToLowerInvariant()}: {reason}");
            }

            return meter;
        }

        if (options.Meter != EnergyMeterKind.Auto)
        {
            var chosen = Try(options.Meter)
                ?? throw new MoeMeshConfigurationException($"MoeMesh:Energy:Meter is {options.Meter}, which is not available on this box: {skipped[^1]}.");
            return new EnergyMeterChoice(chosen, skipped);
        }

        foreach (var kind in new[] { EnergyMeterKind.Nvml, EnergyMeterKind.Ina3221, EnergyMeterKind.Rapl })
        {
            if (Try(kind) is { } meter)
            {
                return new EnergyMeterChoice(meter, skipped);
            }
        }

        return new EnergyMeterChoice(new DeviceModelEnergyMeter(device, time), skipped);
    }
}
