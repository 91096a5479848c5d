using MoeMesh.Devices;

namespace MoeMesh.Grains.Energy;

/// <summary>
/// Attributes the device's energy to the generations running on it. Only the increment over idle
/// power counts (idle power is paid whether or not a query runs), shared equally among the
/// generations running at each moment.
/// </summary>
public sealed class EnergyAccountant : IDeviceActivity
{
    private readonly IEnergyMeter _meter;
    private readonly DeviceProfile _device;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private int _active;
    private double _lastJoules;
    private long _lastTimestamp;

    // Cumulative dynamic joules owed to each generation that ran throughout; a generation's energy is
    // the difference between its end and start readings of this counter.
    private double _joulesPerActiveGeneration;

    public EnergyAccountant(IEnergyMeter meter, DeviceProfile device, TimeProvider? time = null)
    {
        _meter = meter;
        _device = device;
        _time = time ?? TimeProvider.System;
        _lastJoules = meter.ReadJoules();
        _lastTimestamp = _time.GetTimestamp();
    }

    /// <summary>The meter in use.</summary>
    public IEnergyMeter Meter => _meter;

    public int ActiveGenerations => Volatile.Read(ref _active);

    /// <summary>Starts attributing energy to a generation; dispose the scope when it ends.</summary>
    public EnergyScope Begin()
    {
        lock (_gate)
        {
            Settle();
            _active++;
            if (_meter is DeviceModelEnergyMeter model && _active == 1)
            {
                model.SetBusy(true);
            }

            return new EnergyScope(this, _joulesPerActiveGeneration);
        }
    }

    internal double End(double startMark)
    {
        lock (_gate)
        {
            Settle();
            _active--;
            if (_meter is DeviceModelEnergyMeter model && _active == 0)
            {
                model.SetBusy(false);
            }

            return Math.Max(0, _joulesPerActiveGeneration - startMark);
        }
    }

    private void Settle()
    {
        var joules = _meter.ReadJoules();
        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
        var dynamic = joules - _lastJoules - (_device.IdlePowerWatts * seconds);
        if (_active > 0 && dynamic > 0)
        {
            _joulesPerActiveGeneration += dynamic / _active;
        }

        _lastJoules = joules;
        _lastTimestamp = now;
    }
}

/// <summary>One generation's share of the device's energy, from <see cref="EnergyAccountant.Begin"/> to <see cref="Complete"/>.</summary>
public sealed class EnergyScope : IDisposable
{
    private readonly EnergyAccountant _accountant;
    private readonly double _startMark;
    private double? _joules;

    internal EnergyScope(EnergyAccountant accountant, double startMark)
    {
        _accountant = accountant;
        _startMark = startMark;
    }

    /// <summary>Ends the scope and returns the joules attributed to it (idempotent).</summary>
    public double Complete() => _joules ??= _accountant.End(_startMark);

    public void Dispose() => Complete();
}
