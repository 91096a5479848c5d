using MoeMesh.Devices;
using MoeMesh.Experts;

namespace MoeMesh.Grains.Routing;

/// <summary>A predicted cost of one expert run on one device.</summary>
public readonly record struct RunCost(double LatencyMs, double EnergyJoules);

/// <summary>Predicts what running an expert on a device costs, and learns from measurements.</summary>
public interface IExpertCostEstimator
{
    /// <summary>Predicted latency and energy of generating <paramref name="outputTokens"/> after a prompt of <paramref name="promptTokens"/>.</summary>
    RunCost Predict(ExpertManifest expert, DeviceProfile device, int promptTokens, int outputTokens, bool resident);

    /// <summary>Feeds a measured run back so later predictions improve.</summary>
    void Observe(ExpertManifest expert, DeviceProfile device, int promptTokens, int outputTokens, double prefillMs, double decodeMs, double energyJoules);
}
