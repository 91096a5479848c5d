using MoeMesh.Devices;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Routing.Tests.Support;

/// <summary>The two edge device profiles the evaluation tests place experts on.</summary>
public static class TestProfiles
{
    public static IReadOnlyDictionary<string, DeviceProfile> Edge { get; } = new Dictionary<string, DeviceProfile>
    {
        [DeviceAssignment.JetsonId] = new()
        {
            Name = "Jetson AGX Orin 64GB", Kind = DeviceKind.Jetson, MemoryBytes = 68_719_476_736,
            MemoryBandwidthGBps = 204.8, Fp16Tflops = 42, IdlePowerWatts = 15, MaxPowerWatts = 60,
        },
        [DeviceAssignment.Rtx4090Id] = new()
        {
            Name = "RTX 4090 desktop", Kind = DeviceKind.DesktopGpu, MemoryBytes = 25_769_803_776,
            MemoryBandwidthGBps = 1008, Fp16Tflops = 165, IdlePowerWatts = 25, MaxPowerWatts = 450,
        },
    };
}
