using MoeMesh.Devices;
using MoeMesh.Grains.Energy;
using MoeMesh.Grains.Hosting;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Tests.Energy;

public sealed class EnergyMeterTests : IDisposable
{
    private readonly FakeSysfs _sysfs = new();
    private readonly ManualTime _time = new();

    private static DeviceProfile Device => new()
    {
        Name = "test box",
        Kind = DeviceKind.Cpu,
        MemoryBytes = 1 << 30,
        MemoryBandwidthGBps = 50,
        Fp16Tflops = 1,
        IdlePowerWatts = 10,
        MaxPowerWatts = 110,
    };

    public void Dispose() => _sysfs.Dispose();

    [Fact]
    public void Rapl_sums_packages_ignores_subdomains_and_handles_wraparound()
    {
        _sysfs.Write("intel-rapl:0/name", "package-0");
        _sysfs.Write("intel-rapl:0/energy_uj", "999000000");
        _sysfs.Write("intel-rapl:0/max_energy_range_uj", "1000000000");
        _sysfs.Write("intel-rapl:0:0/energy_uj", "5");
        _sysfs.Write("intel-rapl:1/name", "package-1");
        _sysfs.Write("intel-rapl:1/energy_uj", "0");
        var meter = RaplEnergyMeter.TryCreate(_sysfs.Root, _time, out var reason)!;
        Assert.Null(reason);
        Assert.Equal("rapl", meter.Kind.ToWireName());
        Assert.Contains("package-0", meter.Source);
        Assert.DoesNotContain("intel-rapl:0:0", meter.Source);

        // Package 0 wraps from 999 J past 1000 J to 2 J (3 J used); package 1 uses 4 J.
        _sysfs.Write("intel-rapl:0/energy_uj", "2000000");
        _sysfs.Write("intel-rapl:1/energy_uj", "4000000");
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(7.0, meter.ReadJoules(), 6);
        Assert.Equal(7.0, meter.ReadWatts()!.Value, 6);
    }

    [Fact]
    public void Rapl_that_cannot_be_read_says_why()
    {
        Assert.Null(RaplEnergyMeter.TryCreate(Path.Combine(_sysfs.Root, "absent"), _time, out var missing));
        Assert.Contains("does not exist", missing);

        _sysfs.Write("intel-rapl:0/energy_uj", "not a number");
        Assert.Null(RaplEnergyMeter.TryCreate(_sysfs.Root, _time, out var unreadable));
        Assert.Contains("cannot be read", unreadable);
    }

    [Fact]
    public void Ina3221_hwmon_uses_the_total_input_rail_and_integrates_power()
    {
        const string hwmon = "ina3221/1-0040/hwmon/hwmon3/";
        _sysfs.Write(hwmon + "in1_label", "VDD_IN");
        _sysfs.Write(hwmon + "in1_input", "19000");   // 19 V
        _sysfs.Write(hwmon + "curr1_input", "1000");  // 1 A
        _sysfs.Write(hwmon + "in2_label", "VDD_CPU_GPU_CV");
        _sysfs.Write(hwmon + "in2_input", "5000");
        _sysfs.Write(hwmon + "curr2_input", "500");
        using var meter = Ina3221EnergyMeter.TryCreate(_sysfs.Root, _time, out var reason)!;
        Assert.Null(reason);
        Assert.Contains("VDD_IN", meter.Source);
        Assert.DoesNotContain("VDD_CPU_GPU_CV", meter.Source);

        Assert.Equal(19.0, meter.ReadWatts()!.Value, 6);
        _time.Advance(TimeSpan.FromSeconds(2));
        _sysfs.Write(hwmon + "curr1_input", "2000");   // 38 W now

        // Trapezoid over 2 s from 19 W to 38 W = 57 J.
        Assert.Equal(57.0, meter.ReadJoules(), 6);
    }

    [Fact]
    public void Ina3221_iio_rails_report_milliwatts()
    {
        const string iio = "ina3221x/0-0040/iio:device0/";
        _sysfs.Write(iio + "rail_name_0", "GPU");
        _sysfs.Write(iio + "in_power0_input", "3000");
        _sysfs.Write(iio + "rail_name_1", "CPU");
        _sysfs.Write(iio + "in_power1_input", "1500");
        using var meter = Ina3221EnergyMeter.TryCreate(_sysfs.Root, _time, out _)!;

        Assert.Equal(4.5, meter.ReadWatts()!.Value, 6);
    }

    [Fact]
    public void Nvml_prefers_the_energy_counter_and_falls_back_to_power()
    {
        var counter = new CannedNvml { Energy = 5_000, Power = 200_000 };
        using var withCounter = new NvmlEnergyMeter(counter, _time);
        counter.Energy = 17_500;
        Assert.Equal(12.5, withCounter.ReadJoules(), 6);
        Assert.Contains("energy counter", withCounter.Source);

        var powerOnly = new CannedNvml { Energy = null, Power = 100_000 };
        using var sampled = new NvmlEnergyMeter(powerOnly, _time);
        sampled.ReadJoules();
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(300.0, sampled.ReadJoules(), 6);
        Assert.Contains("board power", sampled.Source);
        Assert.Equal("nvml", sampled.Kind.ToWireName());
    }

    [Fact]
    public void Model_meter_draws_idle_power_when_idle_and_max_power_when_busy()
    {
        var meter = new DeviceModelEnergyMeter(Device, _time);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10, meter.ReadJoules(), 6);

        meter.SetBusy(true);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(120, meter.ReadJoules(), 6);
        Assert.Equal(110, meter.ReadWatts());
    }

    [Fact]
    public void Accountant_charges_only_dynamic_energy_shared_among_concurrent_generations()
    {
        var meter = new DeviceModelEnergyMeter(Device, _time);
        var accountant = new EnergyAccountant(meter, Device, _time);

        var first = accountant.Begin();
        _time.Advance(TimeSpan.FromSeconds(1));         // 100 J dynamic, all to the first
        var second = accountant.Begin();
        _time.Advance(TimeSpan.FromSeconds(2));         // 200 J dynamic, shared
        var firstJoules = first.Complete();
        _time.Advance(TimeSpan.FromSeconds(1));         // 100 J, all to the second
        var secondJoules = second.Complete();

        Assert.Equal(200, firstJoules, 6);
        Assert.Equal(200, secondJoules, 6);
        Assert.Equal(0, accountant.ActiveGenerations);
    }

    [Fact]
    public void Auto_selection_falls_through_to_the_model_and_says_why()
    {
        var options = new EnergyOptions
        {
            PowercapRoot = Path.Combine(_sysfs.Root, "powercap"),
            I2cDriversRoot = Path.Combine(_sysfs.Root, "i2c"),
        };

        var choice = EnergyMeterSelector.Select(options, Device, _time, _ => (null, "libnvidia-ml.so.1 is not available"));

        Assert.Equal("model", choice.Meter.Kind.ToWireName());
        Assert.Equal(3, choice.Skipped.Count);
        Assert.Contains(choice.Skipped, s => s.StartsWith("nvml: libnvidia-ml", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_selection_prefers_a_real_meter()
    {
        _sysfs.Write("powercap/intel-rapl:0/energy_uj", "1");
        var options = new EnergyOptions { PowercapRoot = Path.Combine(_sysfs.Root, "powercap"), I2cDriversRoot = Path.Combine(_sysfs.Root, "i2c") };

        var choice = EnergyMeterSelector.Select(options, Device, _time, _ => (null, "absent"));

        Assert.Equal("rapl", choice.Meter.Kind.ToWireName());
    }

    [Fact]
    public void Asking_for_an_unavailable_meter_is_a_configuration_error()
    {
        var options = new EnergyOptions { Meter = EnergyMeterKind.Ina3221, I2cDriversRoot = Path.Combine(_sysfs.Root, "none") };

        var error = Assert.Throws<MoeMeshConfigurationException>(() => EnergyMeterSelector.Select(options, Device, _time));

        Assert.Contains("MoeMesh:Energy:Meter is Ina3221", error.Message);
        Assert.Contains("not a Jetson", error.Message);
    }

    [Fact]
    public void The_real_nvml_library_is_absent_here_and_reported_not_thrown()
    {
        var meter = NvmlEnergyMeter.TryCreate(_time, out var reason);

        Assert.Null(meter);
        Assert.False(string.IsNullOrEmpty(reason));
    }

    private sealed class CannedNvml : INvml
    {
        public ulong? Energy { get; set; }

        public uint Power { get; set; }

        public int DeviceCount => 1;

        public uint PowerMilliwatts(int index) => Power;

        public ulong? TotalEnergyMillijoules(int index) => Energy;

        public string DeviceName(int index) => "RTX 4090";
    }
}
