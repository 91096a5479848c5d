using MoeMesh.Generation;

namespace MoeMesh.Grains.Energy;

/// <summary>
/// Jetson boards' INA3221 power monitors. Newer JetPack releases expose hwmon channels
/// (<c>…/ina3221*/…/hwmon/hwmonN/inK_input</c> in mV, <c>currK_input</c> in mA, <c>inK_label</c>);
/// older ones expose IIO files (<c>…/iio:deviceN/in_powerK_input</c> in mW). The board's total input
/// rail (labelled VDD_IN) is used when present, otherwise the sum of all channels.
/// </summary>
public sealed class Ina3221EnergyMeter : SampledPowerMeter
{
    private readonly IReadOnlyList<Channel> _channels;

    private Ina3221EnergyMeter(IReadOnlyList<Channel> channels, TimeProvider time)
        : base(time)
    {
        _channels = channels;
    }

    public override MeterKind Kind => MeterKind.Ina3221;

    public override string Source => string.Join(", ", _channels.Select(c => c.Describe()));

    /// <summary>A meter over the INA3221 channels under <paramref name="i2cDriversRoot"/>, or null with the reason.</summary>
    public static Ina3221EnergyMeter? TryCreate(string i2cDriversRoot, TimeProvider time, out string? reason)
    {
        reason = null;
        if (!Directory.Exists(i2cDriversRoot))
        {
            reason = $"{i2cDriversRoot} does not exist (not a Jetson?)";
            return null;
        }

        var channels = new List<Channel>();
        foreach (var driver in Directory.EnumerateDirectories(i2cDriversRoot, "ina3221*"))
        {
            foreach (var hwmon in SafeDirectories(driver, "hwmon*", SearchOption.AllDirectories).Where(d => Path.GetFileName(Path.GetDirectoryName(d)) == "hwmon"))
            {
                foreach (var voltage in Directory.EnumerateFiles(hwmon, "in*_input").Order(StringComparer.Ordinal))
                {
                    var index = Path.GetFileName(voltage)[2..^"_input".Length];
                    var current = Path.Combine(hwmon, $"curr{index}_input");
                    if (File.Exists(current))
                    {
                        var label = SysfsFile.TryReadText(Path.Combine(hwmon, $"in{index}_label")) ?? $"channel {index}";
                        channels.Add(new Channel(label, voltage, current, null));
                    }
                }
            }

            foreach (var iio in SafeDirectories(driver, "iio:device*", SearchOption.AllDirectories))
            {
                foreach (var power in Directory.EnumerateFiles(iio, "in_power*_input").Order(StringComparer.Ordinal))
                {
                    var index = Path.GetFileName(power)["in_power".Length..^"_input".Length];
                    var label = SysfsFile.TryReadText(Path.Combine(iio, $"rail_name_{index}")) ?? $"rail {index}";
                    channels.Add(new Channel(label, null, null, power));
                }
            }
        }

        if (channels.Count == 0)
        {
            reason = $"no INA3221 channels under {i2cDriversRoot}";
            return null;
        }

        var total = channels.Where(c => c.Label.Contains("VDD_IN", StringComparison.OrdinalIgnoreCase)).ToList();
        return new Ina3221EnergyMeter(total.Count > 0 ? total : channels, time);
    }

    protected override double ReadPowerWatts() => _channels.Sum(c => c.ReadWatts());

    private static IEnumerable<string> SafeDirectories(string root, string pattern, SearchOption option)
    {
        try
        {
            return Directory.EnumerateDirectories(root, pattern, new EnumerationOptions
            {
                RecurseSubdirectories = option == SearchOption.AllDirectories,
                IgnoreInaccessible = true,
                MaxRecursionDepth = 6,
                AttributesToSkip = 0,
            }).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private sealed record Channel(string Label, string? VoltageFile, string? CurrentFile, string? PowerFile)
    {
        public double ReadWatts()
            => PowerFile is not null
                ? SysfsFile.ReadLong(PowerFile) / 1000.0
                : SysfsFile.ReadLong(VoltageFile!) / 1000.0 * (SysfsFile.ReadLong(CurrentFile!) / 1000.0);

        public string Describe() => $"{Label} ({PowerFile ?? VoltageFile})";
    }
}
