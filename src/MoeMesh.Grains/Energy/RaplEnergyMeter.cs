using MoeMesh.Generation;

namespace MoeMesh.Grains.Energy;

/// <summary>
/// Linux RAPL: cumulative package energy of Intel/AMD CPUs from
/// <c>/sys/class/powercap/intel-rapl:N/energy_uj</c> (microjoules), summed over packages, with the
/// counter's wrap at <c>max_energy_range_uj</c> handled.
/// </summary>
public sealed class RaplEnergyMeter : IEnergyMeter
{
    private readonly Domain[] _domains;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private double _joules;
    private double _lastJoules;
    private long _lastTimestamp;
    private double? _watts;

    private RaplEnergyMeter(Domain[] domains, TimeProvider time)
    {
        _domains = domains;
        _time = time;
        _lastTimestamp = time.GetTimestamp();
    }

    public MeterKind Kind => MeterKind.Rapl;

    public string Source => string.Join(", ", _domains.Select(d => $"{d.Path} ({d.Name})"));

    /// <summary>
    /// A meter over the package domains under <paramref name="powercapRoot"/>, or null with the
    /// reason when there are none or they cannot be read (often root-only).
    /// </summary>
    public static RaplEnergyMeter? TryCreate(string powercapRoot, TimeProvider time, out string? reason)
    {
        reason = null;
        if (!Directory.Exists(powercapRoot))
        {
            reason = $"{powercapRoot} does not exist";
            return null;
        }

        // Packages are intel-rapl:N; their subdomains (intel-rapl:N:M, core/uncore/dram) are parts of them.
        var domains = new List<Domain>();
        foreach (var dir in Directory.EnumerateDirectories(powercapRoot, "intel-rapl:*").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            if (name.Count(c => c == ':') != 1)
            {
                continue;
            }

            var energy = Path.Combine(dir, "energy_uj");
            if (!SysfsFile.TryReadLong(energy, out var raw))
            {
                reason = $"{energy} cannot be read (RAPL counters are often readable by root only)";
                continue;
            }

            var max = SysfsFile.TryReadLong(Path.Combine(dir, "max_energy_range_uj"), out var range) && range > 0 ? range : long.MaxValue;
            domains.Add(new Domain(dir, SysfsFile.TryReadText(Path.Combine(dir, "name")) ?? name, energy, max) { Last = raw });
        }

        if (domains.Count == 0)
        {
            reason ??= $"no RAPL package domains under {powercapRoot}";
            return null;
        }

        return new RaplEnergyMeter([.. domains], time);
    }

    public double ReadJoules()
    {
        lock (_gate)
        {
            Advance();
            return _joules;
        }
    }

    public double? ReadWatts()
    {
        lock (_gate)
        {
            Advance();
            return _watts;
        }
    }

    private void Advance()
    {
        foreach (var domain in _domains)
        {
            if (!SysfsFile.TryReadLong(domain.EnergyFile, out var raw))
            {
                continue;
            }

            var delta = raw >= domain.Last ? raw - domain.Last : domain.MaxRange - domain.Last + raw;
            domain.Last = raw;
            _joules += delta / 1e6;
        }

        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
        if (seconds >= 0.05)
        {
            _watts = (_joules - _lastJoules) / seconds;
            _lastJoules = _joules;
            _lastTimestamp = now;
        }
    }

    private sealed class Domain(string path, string name, string energyFile, long maxRange)
    {
        public string Path { get; } = path;

        public string Name { get; } = name;

        public string EnergyFile { get; } = energyFile;

        public long MaxRange { get; } = maxRange;

        public long Last { get; set; }
    }
}
