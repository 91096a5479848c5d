namespace MoeMesh.Devices;

/// <summary>
/// What a silo's box can do: the priors the cost model starts from and the facts placement checks.
/// Figures are vendor specifications (see <c>deploy/profiles/</c>); a running silo refines
/// latency and power with what it measures.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.device-profile")]
public sealed record DeviceProfile
{
    /// <summary>A short human-readable name, such as "Jetson AGX Orin 64GB".</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The broad class of the device.</summary>
    [Id(1)] public required DeviceKind Kind { get; init; }

    /// <summary>Memory available to models, in bytes (VRAM for discrete GPUs, unified memory for Jetson).</summary>
    [Id(2)] public required long MemoryBytes { get; init; }

    /// <summary>Peak memory bandwidth in GB/s (10^9 bytes per second); bounds decode speed.</summary>
    [Id(3)] public required double MemoryBandwidthGBps { get; init; }

    /// <summary>Dense fp16 tensor throughput in TFLOPS; bounds prefill speed.</summary>
    [Id(4)] public required double Fp16Tflops { get; init; }

    /// <summary>Power drawn when idle, in watts.</summary>
    [Id(5)] public required double IdlePowerWatts { get; init; }

    /// <summary>Power drawn at full load, in watts.</summary>
    [Id(6)] public required double MaxPowerWatts { get; init; }

    /// <summary>Where the box is (a room, a rack, a city); informational and used to group silos on the dashboard.</summary>
    [Id(7)] public string Site { get; init; } = "local";

    /// <summary>Checks the figures are physically sensible; returns the problems found, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            problems.Add("device name is empty");
        }

        if (!Enum.IsDefined(Kind))
        {
            problems.Add($"device kind '{Kind}' is not one of {string.Join(", ", Enum.GetNames<DeviceKind>())}");
        }

        if (Kind != DeviceKind.Cloud && MemoryBytes <= 0)
        {
            problems.Add($"memory must be positive, got {MemoryBytes} bytes");
        }

        if (MemoryBytes > 64L * 1024 * 1024 * 1024 * 1024)
        {
            problems.Add($"memory of {MemoryBytes} bytes is above 64 TiB; check the units (bytes expected)");
        }

        CheckPositive(problems, "memory bandwidth (GB/s)", MemoryBandwidthGBps, 100_000);
        CheckPositive(problems, "fp16 compute (TFLOPS)", Fp16Tflops, 100_000);
        if (!double.IsFinite(IdlePowerWatts) || IdlePowerWatts < 0)
        {
            problems.Add($"idle power must be zero or more watts, got {IdlePowerWatts}");
        }

        if (!double.IsFinite(MaxPowerWatts) || MaxPowerWatts < IdlePowerWatts)
        {
            problems.Add($"max power ({MaxPowerWatts} W) must be at least the idle power ({IdlePowerWatts} W)");
        }
        else if (MaxPowerWatts > 10_000)
        {
            problems.Add($"max power of {MaxPowerWatts} W is above 10 kW; check the units (watts expected)");
        }

        return problems;
    }

    private static void CheckPositive(List<string> problems, string what, double value, double absurd)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            problems.Add($"{what} must be a positive number, got {value}");
        }
        else if (value > absurd)
        {
            problems.Add($"{what} of {value} is implausibly large; check the units");
        }
    }
}
