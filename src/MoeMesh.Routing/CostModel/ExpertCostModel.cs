using System.Collections.Concurrent;
using MoeMesh.Devices;

namespace MoeMesh.Routing.CostModel;

/// <summary>
/// Predicts the latency and energy of one expert serving one request on one device. The prior is a
/// roofline: decode reads every active weight once per token (memory-bound), prefill does about
/// 2 × active parameters FLOPs per prompt token (compute-bound). Measured runs refine it through
/// running correction factors per expert and device, kept separately for prefill, decode and
/// energy, so one slow phase does not distort the other.
/// </summary>
/// <remarks>
/// Safe for concurrent use: registrations and refinements are swapped atomically, and
/// <see cref="Predict"/> takes no lock, so a router can predict while runs report measurements.
/// </remarks>
public sealed class ExpertCostModel
{
    private readonly ConcurrentDictionary<string, DeviceProfile> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ExpertCostProfile> _experts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Expert, string Device), Refinement> _refinements = new();

    /// <summary>Creates a cost model; throws when the options are out of range.</summary>
    public ExpertCostModel(CostModelOptions? options = null)
    {
        Options = options ?? new CostModelOptions();
        Options.EnsureValid();
    }

    /// <summary>The rules of thumb in use.</summary>
    public CostModelOptions Options { get; }

    /// <summary>Devices registered so far, by id.</summary>
    public IReadOnlyDictionary<string, DeviceProfile> Devices => _devices;

    /// <summary>Experts registered so far, by id.</summary>
    public IReadOnlyDictionary<string, ExpertCostProfile> Experts => _experts;

    /// <summary>Adds or replaces a device; throws naming every problem with its figures.</summary>
    public void RegisterDevice(string deviceId, DeviceProfile profile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        ArgumentNullException.ThrowIfNull(profile);
        var problems = profile.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"device '{deviceId}' has an invalid profile: {string.Join("; ", problems)}", nameof(profile));
        }

        _devices[deviceId] = profile;
    }

    /// <summary>Adds or replaces an expert; throws naming every problem with its figures.</summary>
    public void RegisterExpert(ExpertCostProfile expert)
    {
        ArgumentNullException.ThrowIfNull(expert);
        var problems = expert.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"expert '{expert.ExpertId}' has an invalid cost profile: {string.Join("; ", problems)}", nameof(expert));
        }

        _experts[expert.ExpertId] = expert;
    }

    /// <summary>Predicted cost of <paramref name="expertId"/> serving <paramref name="shape"/> on <paramref name="deviceId"/>: the prior, corrected by measurements.</summary>
    public CostEstimate Predict(string expertId, string deviceId, RequestShape shape)
    {
        var (expert, device) = Resolve(expertId, deviceId);
        var prior = Roofline(expert, device, shape, Options);
        if (!_refinements.TryGetValue((expertId, deviceId), out var refinement))
        {
            return prior;
        }

        return new CostEstimate(
            prior.PrefillMs * refinement.PrefillFactor,
            prior.DecodeMs * refinement.DecodeFactor,
            prior.TransferMs,
            prior.EnergyJoules * refinement.EnergyFactor);
    }

    /// <summary>The roofline prior alone, without measurements.</summary>
    public CostEstimate PredictPrior(string expertId, string deviceId, RequestShape shape)
    {
        var (expert, device) = Resolve(expertId, deviceId);
        return Roofline(expert, device, shape, Options);
    }

    /// <summary>Folds a measured run into the running estimates of this expert on this device.</summary>
    public void Observe(string expertId, string deviceId, CostObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var problems = observation.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(
                $"measurement of expert '{expertId}' on device '{deviceId}' rejected: {string.Join("; ", problems)}",
                nameof(observation));
        }

        var (expert, device) = Resolve(expertId, deviceId);
        var prior = Roofline(expert, device, new RequestShape(observation.PromptTokens, observation.OutputTokens), Options);
        _refinements.AddOrUpdate(
            (expertId, deviceId),
            static (_, state) => Refinement.Initial.With(state.Observation, state.Prior, state.Options),
            static (_, current, state) => current.With(state.Observation, state.Prior, state.Options),
            (Observation: observation, Prior: prior, Options: Options));
    }

    /// <summary>The current correction factors of every expert and device that has measurements.</summary>
    public IReadOnlyList<CostRefinement> Refinements()
        => _refinements
            .Select(p => new CostRefinement(p.Key.Expert, p.Key.Device, p.Value.Observations, p.Value.PrefillFactor, p.Value.DecodeFactor, p.Value.EnergyFactor))
            .OrderBy(r => r.ExpertId, StringComparer.Ordinal)
            .ThenBy(r => r.DeviceId, StringComparer.Ordinal)
            .ToArray();

    /// <summary>The roofline prior of <paramref name="expert"/> on <paramref name="device"/> (pure function of its inputs).</summary>
    public static CostEstimate Roofline(ExpertCostProfile expert, DeviceProfile device, RequestShape shape, CostModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(expert);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        if (device.Kind == DeviceKind.Cloud)
        {
            // A hosted model: its speed is the provider's, and it adds no energy to the local boxes.
            var firstToken = shape.PromptTokens > 0 || shape.OutputTokens > 0 ? options.CloudTimeToFirstTokenMs : 0;
            var decode = shape.OutputTokens * 1000.0 / options.CloudTokensPerSecond;
            return new CostEstimate(firstToken, decode, options.CloudRoundTripMs, 0);
        }

        var bandwidth = device.MemoryBandwidthGBps * 1e9 * options.DecodeBandwidthEfficiency;
        var flops = device.Fp16Tflops * 1e12 * options.PrefillComputeEfficiency;
        var weightReadMs = expert.ActiveWeightBytes / bandwidth * 1000.0;

        // Prefill is compute-bound but never faster than one pass over the weights.
        var prefillMs = shape.PromptTokens == 0
            ? 0
            : Math.Max(shape.PromptTokens * 2.0 * expert.ActiveParameters / flops * 1000.0, weightReadMs);
        var decodeMs = shape.OutputTokens * weightReadMs;

        // Only the increment above idle counts: idle power is paid whether or not the query runs.
        var range = Math.Max(0, device.MaxPowerWatts - device.IdlePowerWatts);
        var energy = ((prefillMs * options.PrefillLoadFraction) + (decodeMs * options.DecodeLoadFraction)) / 1000.0 * range;
        var transferBytes = (shape.PromptTokens + shape.OutputTokens) * options.BytesPerToken;
        var transferMs = options.LanRoundTripMs + (transferBytes / options.LanBytesPerSecond * 1000.0);
        return new CostEstimate(prefillMs, decodeMs, transferMs, energy);
    }

    private (ExpertCostProfile Expert, DeviceProfile Device) Resolve(string expertId, string deviceId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expertId);
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        if (!_experts.TryGetValue(expertId, out var expert))
        {
            throw new KeyNotFoundException($"the cost model has no figures for expert '{expertId}'; register it with {nameof(RegisterExpert)} first");
        }

        if (!_devices.TryGetValue(deviceId, out var device))
        {
            throw new KeyNotFoundException($"the cost model has no profile for device '{deviceId}'; register it with {nameof(RegisterDevice)} first");
        }

        return (expert, device);
    }

    /// <summary>Running correction factors, averaged in log space so over- and under-estimates weigh alike.</summary>
    private sealed record Refinement(int Observations, double LogPrefill, double LogDecode, double LogEnergy, int PrefillCount, int DecodeCount, int EnergyCount)
    {
        private const double MinRatio = 1e-3;
        private const double MaxRatio = 1e3;

        public static Refinement Initial { get; } = new(0, 0, 0, 0, 0, 0, 0);

        public double PrefillFactor => Math.Exp(LogPrefill);

        public double DecodeFactor => Math.Exp(LogDecode);

        public double EnergyFactor => Math.Exp(LogEnergy);

        public Refinement With(CostObservation observation, CostEstimate prior, CostModelOptions options)
        {
            var (logPrefill, prefillCount) = Fold(LogPrefill, PrefillCount, observation.PrefillMs, observation.PromptTokens > 0 ? prior.PrefillMs : 0, options);
            var (logDecode, decodeCount) = Fold(LogDecode, DecodeCount, observation.DecodeMs, observation.OutputTokens > 0 ? prior.DecodeMs : 0, options);
            var (logEnergy, energyCount) = observation.EnergyJoules is { } energy
                ? Fold(LogEnergy, EnergyCount, energy, prior.EnergyJoules, options)
                : (LogEnergy, EnergyCount);
            return new Refinement(Observations + 1, logPrefill, logDecode, logEnergy, prefillCount, decodeCount, energyCount);
        }

        private static (double Log, int Count) Fold(double current, int count, double measured, double predicted, CostModelOptions options)
        {
            if (predicted <= 0)
            {
                return (current, count);
            }

            var ratio = Math.Clamp(measured / predicted, MinRatio, MaxRatio);
            var weight = options.PriorWeight + Math.Min(count, options.MaxEffectiveObservations - 1);
            return (((current * weight) + Math.Log(ratio)) / (weight + 1), count + 1);
        }
    }
}

/// <summary>How far measurements have moved the prior of one expert on one device (1 = unchanged).</summary>
public sealed record CostRefinement(string ExpertId, string DeviceId, int Observations, double PrefillFactor, double DecodeFactor, double EnergyFactor);
