using MoeMesh.Generation;

namespace MoeMesh.Grains.Energy;

/// <summary>
/// Turns power readings into energy for meters that only report watts: trapezoids between
/// consecutive readings. Readers sample it often (see <see cref="SampledPowerMeter"/>).
/// </summary>
public sealed class PowerIntegrator(TimeProvider time)
{
    private readonly Lock _gate = new();
    private long _lastTimestamp;
    private double _lastWatts = double.NaN;
    private double _joules;

    /// <summary>Adds a reading of <paramref name="watts"/> taken now; returns the energy so far.</summary>
    public double Add(double watts)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (!double.IsNaN(_lastWatts))
            {
                var seconds = time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
                _joules += (watts + _lastWatts) / 2 * seconds;
            }

            _lastTimestamp = now;
            _lastWatts = watts;
            return _joules;
        }
    }

    public double Joules
    {
        get
        {
            lock (_gate)
            {
                return _joules;
            }
        }
    }

    public double? LastWatts
    {
        get
        {
            lock (_gate)
            {
                return double.IsNaN(_lastWatts) ? null : _lastWatts;
            }
        }
    }
}

/// <summary>
/// A meter built on a power reading: samples it on a timer and integrates, so energy between two
/// reads reflects what happened in between rather than only the endpoints.
/// </summary>
public abstract class SampledPowerMeter : IEnergyMeter, IDisposable
{
    /// <summary>How often power is sampled.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(100);

    private readonly PowerIntegrator _integrator;
    private readonly ITimer _timer;

    protected SampledPowerMeter(TimeProvider time)
    {
        _integrator = new PowerIntegrator(time);
        _timer = time.CreateTimer(_ => Sample(), null, SampleInterval, SampleInterval);
    }

    public abstract MeterKind Kind { get; }

    public abstract string Source { get; }

    public virtual double ReadJoules() => Sample();

    public double? ReadWatts()
    {
        Sample();
        return _integrator.LastWatts;
    }

    public void Dispose()
    {
        _timer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Power now, in watts; throws when the source cannot be read.</summary>
    protected abstract double ReadPowerWatts();

    private double Sample()
    {
        try
        {
            return _integrator.Add(ReadPowerWatts());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            // A transient read failure keeps the last energy figure; the next sample catches up.
            return _integrator.Joules;
        }
    }
}
