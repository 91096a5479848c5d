using System.Runtime.InteropServices;
using MoeMesh.Generation;

namespace MoeMesh.Grains.Energy;

/// <summary>What MoeMesh needs from NVIDIA's management library; the real one is <see cref="NvmlLibrary"/>.</summary>
public interface INvml
{
    /// <summary>Board power of GPU <paramref name="index"/> in milliwatts.</summary>
    uint PowerMilliwatts(int index);

    /// <summary>Energy used by GPU <paramref name="index"/> since the driver loaded, in millijoules; null when the GPU cannot tell (before Volta).</summary>
    ulong? TotalEnergyMillijoules(int index);

    int DeviceCount { get; }

    string DeviceName(int index);
}

/// <summary>
/// NVIDIA desktop GPUs through NVML: the driver's cumulative energy counter where the GPU has one,
/// else board power sampled and integrated. Covers all GPUs of the box.
/// </summary>
public sealed class NvmlEnergyMeter : SampledPowerMeter
{
    private readonly INvml _nvml;
    private readonly ulong?[] _baseline;
    private readonly bool _hasEnergyCounter;

    public NvmlEnergyMeter(INvml nvml, TimeProvider time)
        : base(time)
    {
        _nvml = nvml;
        _baseline = Enumerable.Range(0, nvml.DeviceCount).Select(nvml.TotalEnergyMillijoules).ToArray();
        _hasEnergyCounter = _baseline.Length > 0 && _baseline.All(b => b is not null);
    }

    public override MeterKind Kind => MeterKind.Nvml;

    public override string Source
        => $"{string.Join(", ", Enumerable.Range(0, _nvml.DeviceCount).Select(_nvml.DeviceName))} ({(_hasEnergyCounter ? "energy counter" : "board power")})";

    /// <summary>The NVML meter when libnvidia-ml loads and sees a GPU; otherwise null and why.</summary>
    public static NvmlEnergyMeter? TryCreate(TimeProvider time, out string? reason)
    {
        var nvml = NvmlLibrary.TryOpen(out reason);
        return nvml is null ? null : new NvmlEnergyMeter(nvml, time);
    }

    /// <summary>Energy since the meter started, in joules: the hardware counter when every GPU has one.</summary>
    public override double ReadJoules()
    {
        if (!_hasEnergyCounter)
        {
            return base.ReadJoules();
        }

        double joules = 0;
        for (var i = 0; i < _baseline.Length; i++)
        {
            var now = _nvml.TotalEnergyMillijoules(i) ?? _baseline[i]!.Value;
            joules += (now - _baseline[i]!.Value) / 1000.0;
        }

        return joules;
    }

    protected override double ReadPowerWatts()
        => Enumerable.Range(0, _nvml.DeviceCount).Sum(i => _nvml.PowerMilliwatts(i) / 1000.0);
}

/// <summary>libnvidia-ml (the NVIDIA driver's management library) through P/Invoke.</summary>
internal sealed partial class NvmlLibrary : INvml
{
    private const string Library = "libnvidia-ml.so.1";
    private const int Success = 0;

    private readonly IntPtr[] _devices;
    private readonly string[] _names;

    private NvmlLibrary(IntPtr[] devices, string[] names)
    {
        _devices = devices;
        _names = names;
    }

    public int DeviceCount => _devices.Length;

    public static NvmlLibrary? TryOpen(out string? reason)
    {
        try
        {
            var status = NvmlInit();
            if (status != Success)
            {
                reason = $"nvmlInit_v2 returned {status}";
                return null;
            }

            if (NvmlDeviceGetCount(out var count) != Success || count == 0)
            {
                reason = "NVML sees no GPU";
                return null;
            }

            var devices = new IntPtr[count];
            var names = new string[count];
            for (var i = 0u; i < count; i++)
            {
                if (NvmlDeviceGetHandleByIndex(i, out devices[i]) != Success)
                {
                    reason = $"NVML cannot open GPU {i}";
                    return null;
                }

                var buffer = new byte[96];
                names[i] = NvmlDeviceGetName(devices[i], buffer, (uint)buffer.Length) == Success
                    ? System.Text.Encoding.UTF8.GetString(buffer).TrimEnd('\0')
                    : $"GPU {i}";
            }

            reason = null;
            return new NvmlLibrary(devices, names);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            reason = $"{Library} is not available ({ex.GetType().Name})";
            return null;
        }
    }

    public uint PowerMilliwatts(int index)
        => NvmlDeviceGetPowerUsage(_devices[index], out var milliwatts) == Success
            ? milliwatts
            : throw new InvalidOperationException($"NVML cannot read the power of GPU {index}.");

    public ulong? TotalEnergyMillijoules(int index)
        => NvmlDeviceGetTotalEnergyConsumption(_devices[index], out var millijoules) == Success ? millijoules : null;

    public string DeviceName(int index) => _names[index];

    [LibraryImport(Library, EntryPoint = "nvmlInit_v2")]
    private static partial int NvmlInit();

    [LibraryImport(Library, EntryPoint = "nvmlDeviceGetCount_v2")]
    private static partial int NvmlDeviceGetCount(out uint count);

    [LibraryImport(Library, EntryPoint = "nvmlDeviceGetHandleByIndex_v2")]
    private static partial int NvmlDeviceGetHandleByIndex(uint index, out IntPtr device);

    [LibraryImport(Library, EntryPoint = "nvmlDeviceGetName")]
    private static partial int NvmlDeviceGetName(IntPtr device, [Out] byte[] name, uint length);

    [LibraryImport(Library, EntryPoint = "nvmlDeviceGetPowerUsage")]
    private static partial int NvmlDeviceGetPowerUsage(IntPtr device, out uint milliwatts);

    [LibraryImport(Library, EntryPoint = "nvmlDeviceGetTotalEnergyConsumption")]
    private static partial int NvmlDeviceGetTotalEnergyConsumption(IntPtr device, out ulong millijoules);
}
