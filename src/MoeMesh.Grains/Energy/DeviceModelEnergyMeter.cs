using MoeMesh.Devices;
using MoeMesh.Generation;

namespace MoeMesh.Grains.Energy;

/// <summary>
/// The fallback meter: the device draws its idle power when nothing runs and its maximum power
/// while any generation runs. Integrated lazily whenever read or when activity changes.
/// </summary>
public sealed class DeviceModelEnergyMeter : IEnergyMeter
{
    private readonly DeviceProfile _device;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _lastTimestamp;
    private double _joules;
    private bool _busy;

    public DeviceModelEnergyMeter(DeviceProfile device, TimeProvider? time = null)
    {
        _device = device;
        _time = time ?? TimeProvider.System;
        _lastTimestamp = _time.GetTimestamp();
    }

    public MeterKind Kind => MeterKind.Model;

    public string Source => $"device profile '{_device.Name}' ({_device.IdlePowerWatts:0.#} W idle, {_device.MaxPowerWatts:0.#} W busy)";

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
            return _busy ? _device.MaxPowerWatts : _device.IdlePowerWatts;
        }
    }

    /// <summary>Records that the device became busy or idle.</summary>
    public void SetBusy(bool busy)
    {
        lock (_gate)
        {
            Advance();
            _busy = busy;
        }
    }

    private void Advance()
    {
        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
        _lastTimestamp = now;
        _joules += seconds * (_busy ? _device.MaxPowerWatts : _device.IdlePowerWatts);
    }
}
