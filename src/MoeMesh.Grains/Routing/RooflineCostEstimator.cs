using System.Collections.Concurrent;
using MoeMesh.Devices;
using MoeMesh.Experts;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Roofline prior (decode reads every active weight per token; prefill does 2 FLOPs per active
/// parameter per prompt token) refined by an exponentially weighted ratio of measured to predicted
/// time per expert and device.
/// </summary>
public sealed class RooflineCostEstimator : IExpertCostEstimator
{
    private const double DecodeEfficiency = 0.6;
    private const double PrefillEfficiency = 0.4;
    private const double Smoothing = 0.2;

    private readonly ConcurrentDictionary<(string Expert, string Device), double> _correction = new();

    public RunCost Predict(ExpertManifest expert, DeviceProfile device, int promptTokens, int outputTokens, bool resident)
    {
        var (prefillMs, decodeMs) = Prior(expert, device, promptTokens, outputTokens);
        var factor = _correction.GetValueOrDefault((expert.Id, device.Name), 1.0);
        var latency = (prefillMs + decodeMs) * factor;
        var energy = device.Kind == DeviceKind.Cloud ? 0 : (device.MaxPowerWatts - device.IdlePowerWatts) * latency / 1000.0;
        return new RunCost(latency, energy);
    }

    public void Observe(ExpertManifest expert, DeviceProfile device, int promptTokens, int outputTokens, double prefillMs, double decodeMs, double energyJoules)
    {
        var (p, d) = Prior(expert, device, promptTokens, outputTokens);
        if (p + d <= 0 || prefillMs + decodeMs <= 0)
        {
            return;
        }

        var ratio = (prefillMs + decodeMs) / (p + d);
        _correction.AddOrUpdate((expert.Id, device.Name), ratio, (_, old) => old + (Smoothing * (ratio - old)));
    }

    private static (double PrefillMs, double DecodeMs) Prior(ExpertManifest expert, DeviceProfile device, int promptTokens, int outputTokens)
    {
        var bandwidth = Math.Max(device.MemoryBandwidthGBps, 1e-3) * 1e9 * DecodeEfficiency;
        var flops = Math.Max(device.Fp16Tflops, 1e-6) * 1e12 * PrefillEfficiency;
        var decodeMs = outputTokens * expert.ActiveWeightBytes / bandwidth * 1000.0;
        var prefillMs = 2.0 * expert.ActiveParameters * promptTokens / flops * 1000.0;
        return (prefillMs, decodeMs);
    }
}
