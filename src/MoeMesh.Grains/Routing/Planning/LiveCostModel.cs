using System.Collections.Concurrent;
using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// The routing library's cost model over the live mesh: devices are silos (their profiles), experts
/// are manifests; the roofline prior is refined by what runs measure on each silo. Thread-safe.
/// </summary>
public sealed class LiveCostModel
{
    private readonly ExpertCostModel _model = new(new EvaluationOptions().CostModel);
    private readonly ConcurrentDictionary<string, ExpertManifest> _experts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Devices.DeviceProfile> _silos = new(StringComparer.Ordinal);

    /// <summary>Predicted cost of <paramref name="expert"/> serving <paramref name="shape"/> on <paramref name="silo"/>.</summary>
    public CostEstimate Predict(ExpertManifest expert, SiloInfo silo, RequestShape shape)
    {
        Register(expert, silo.Silo, silo.Device);
        return _model.Predict(expert.Id, silo.Silo, shape);
    }

    /// <summary>Refines the estimate for the expert on the silo with a run's measurements (simulated runs teach nothing).</summary>
    public void Observe(ExpertManifest expert, SiloInfo silo, GenerationMetrics metrics, double energyJoules)
    {
        if (metrics.Simulated || metrics.GeneratedTokens <= 0 || metrics.TotalMs <= 0)
        {
            return;
        }

        Register(expert, silo.Silo, silo.Device);
        var observation = CostObservation.FromMetrics(metrics, energyJoules > 0 ? energyJoules : null);
        if (observation.Validate().Count == 0)
        {
            _model.Observe(expert.Id, silo.Silo, observation);
        }
    }

    /// <summary>The refinements learned so far, per expert and silo.</summary>
    public IReadOnlyList<CostRefinement> Refinements() => _model.Refinements();

    private void Register(ExpertManifest expert, string silo, Devices.DeviceProfile device)
    {
        if (!_experts.TryGetValue(expert.Id, out var known)
            || known.ActiveParameters != expert.ActiveParameters
            || known.WeightBytes != expert.WeightBytes
            || known.ActiveWeightBytes != expert.ActiveWeightBytes)
        {
            _model.RegisterExpert(ExpertCostProfile.FromManifest(expert));
            _experts[expert.Id] = expert;
        }

        if (!_silos.TryGetValue(silo, out var profile) || profile != device)
        {
            _model.RegisterDevice(silo, device);
            _silos[silo] = device;
        }
    }
}
