using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Tests.Routing.Planning;

/// <summary>The silo, expert and calibration the live cost model's tests predict for.</summary>
internal static class LiveCostModelFixture
{
    public static readonly DeviceProfile Cpu = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "cpu-box" });

    public static readonly SiloInfo Silo = new() { Silo = "silo-a", Device = Cpu, State = SiloState.Active };

    /// <summary>An expert whose replica has measured its engine (<see cref="Calibration"/>).</summary>
    public static readonly ExpertManifest Measured = new()
    {
        Id = "measured", Engine = ExpertEngines.LlamaCpp, ParameterCount = 500_000_000, Quantization = "Q4_K_M", Skills = ["general"],
    };

    public static readonly EngineCalibration Calibration = new()
    {
        PrefillMsPerToken = 0.5, DecodeMsPerToken = 10, OverheadMs = 5, BusyWatts = 30, LoadSlowdown = 0.25, Confidence = 3, Observations = 1,
    };
}
