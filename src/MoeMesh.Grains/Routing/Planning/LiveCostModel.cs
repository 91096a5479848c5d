using System.Collections.Concurrent;
using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// The cost model over the live mesh. A replica that has measured its engine (a probe at load, then
/// its runs) is costed from that calibration; an expert not loaded yet on a silo where others are
/// measured is costed from its roofline scaled as they measured; a silo with nothing measured falls
/// back to the routing library's roofline. Predictions count the sequences already running: those
/// on the same replica share its engine's batches (the calibration's load slowdown), those on the
/// host's other engines share its cores (the host's contention, learned from every run on it with
/// the host's pace), and the time between the router and the engine this router has seen. Thread-safe.
/// </summary>
/// <param name="time">The clock for run times and for reading the replicas' reports against this router's runs.</param>
public sealed class LiveCostModel(TimeProvider? time = null)
{
    private const double MaxDispatchConfidence = 10;

    private readonly ExpertCostModel _model = new(new EvaluationOptions().CostModel);
    private readonly ConcurrentDictionary<string, ExpertManifest> _experts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ExpertManifest> _manifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Devices.DeviceProfile> _silos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Expert, string Silo), EngineCalibration> _calibrations = new();
    private readonly ConcurrentDictionary<(string Silo, bool Busy), Dispatch> _dispatch = new();
    private readonly ConcurrentDictionary<(string Expert, string Silo), bool> _learnedHere = new();
    private readonly ConcurrentDictionary<(string Expert, string Silo), bool> _afterLoad = new();
    private readonly ConcurrentDictionary<string, HostContention> _hosts = new(StringComparer.Ordinal);
    private readonly CalibrationRules _rules = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly LiveLoad _live = new(time ?? TimeProvider.System);
    private TakenSnapshot? _taken;

    /// <summary>
    /// Takes the calibrations and load the replicas published in <paramref name="catalog"/>. A router
    /// plans many queries from one cached snapshot, and taking the same one again changes nothing, so
    /// it is taken once (the experts and replicas are the snapshot's content; a copy that only marks
    /// silos dead shares them).
    /// </summary>
    public void Update(CatalogSnapshot catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (Volatile.Read(ref _taken) is { } taken && ReferenceEquals(taken.Experts, catalog.Experts) && ReferenceEquals(taken.Replicas, catalog.Replicas))
        {
            return;
        }

        foreach (var manifest in catalog.Experts)
        {
            _manifests[manifest.Id] = manifest;
        }

        // A replica's report counts this router's runs as they were when it was made: what is left
        // after them is the others' load, and this router's own runs count as they are now.
        var reports = new Dictionary<(string Expert, string Silo), (int Active, DateTimeOffset At)>();
        foreach (var replica in catalog.Replicas)
        {
            var key = (replica.Replica.ExpertId, replica.Silo);
            var sum = reports.GetValueOrDefault(key);
            var active = replica.State == ReplicaState.Ready ? replica.ActiveRequests : 0;
            reports[key] = (sum.Active + active, replica.ReportedAt > sum.At ? replica.ReportedAt : sum.At);

            // A replica's probe starts the estimate; once this router has seen runs there, its own
            // estimate (which knows the load each run met) is the one it keeps.
            if (replica.State == ReplicaState.Ready && replica.Calibration is { } calibration && !_learnedHere.ContainsKey(key))
            {
                _calibrations.AddOrUpdate(
                    key,
                    calibration,
                    (_, known) => calibration.Observations >= known.Observations ? calibration : known);
            }
        }

        var others = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ((expert, silo), report) in reports)
        {
            others[silo] = others.GetValueOrDefault(silo) + Math.Max(0, report.Active - _live.RunningOnReplicaAt(expert, silo, report.At));
        }

        foreach (var (silo, count) in others)
        {
            _live.Silo(silo).Others = count;
        }

        Volatile.Write(ref _taken, new TakenSnapshot(catalog.Experts, catalog.Replicas));
    }

    /// <summary>Predicted cost of <paramref name="expert"/> serving <paramref name="shape"/> on <paramref name="silo"/> now.</summary>
    public CostEstimate Predict(ExpertManifest expert, SiloInfo silo, RequestShape shape)
    {
        Register(expert, silo.Silo, silo.Device);
        if (CalibrationFor(expert, silo) is not { } calibration)
        {
            return _model.Predict(expert.Id, silo.Silo, shape);
        }

        // Sequences on this replica share its engine's batches; those on the host's other engines
        // (any silo of the host) share its cores; the energy is shared only among the sequences the
        // silo's own meter accounts.
        var same = RunningOnReplica(expert.Id, silo.Silo);
        var host = HostFactor(silo.Silo, calibration, Elsewhere(expert.Id, silo.Silo, same));
        shape = new RequestShape((int)Math.Ceiling(shape.PromptTokens * calibration.PromptTokenRatio), shape.OutputTokens);
        var engineMs = EngineCalibrator.PredictMs(calibration, shape, same) * host;
        var prefillMs = EngineCalibrator.PredictMs(calibration, new RequestShape(shape.PromptTokens, 1), same) * host;
        var dispatchMs = DispatchMs(silo.Silo) ?? _model.Options.LanRoundTripMs;
        return new CostEstimate(prefillMs, engineMs - prefillMs, dispatchMs, EngineCalibrator.PredictJoules(calibration, engineMs, RunningOn(silo.Silo)));
    }

    /// <summary>
    /// Time to keep back from a run's deadline on <paramref name="silo"/> for the answer to reach the
    /// router after the engine stops: half the time its runs spend outside the engine (there and back).
    /// </summary>
    public double ReturnReserveMs(string? silo)
        => silo is not null && DispatchMs(silo) is { } ms ? ms / 2 : 0;

    /// <summary>Sequences running on <paramref name="silo"/> now, as far as this router knows.</summary>
    public int RunningOn(string silo) => _live.RunningOn(silo);

    /// <summary>Sequences running on every silo of <paramref name="silo"/>'s host now.</summary>
    public int RunningOnHost(string silo) => _live.RunningOnHost(silo);

    /// <summary>The host part of a silo name ("10.0.0.5:11111@123" is on "10.0.0.5").</summary>
    internal static string HostOf(string silo) => LiveLoad.HostOf(silo);

    /// <summary>
    /// Counts a run this router sends to <paramref name="silo"/> until the returned handle is disposed.
    /// <paramref name="since"/> (a timestamp of the model's <see cref="TimeProvider"/>, default now) is
    /// where the time outside the engine starts: the query's start for a responder, so planning counts too.
    /// </summary>
    public LiveRun Track(string? silo, long? since = null, GenerationRequest? request = null)
    {
        var others = RunningOnHost(silo ?? "");
        var prompt = request is null ? (int?)null : EngineCalibrator.EstimatePromptTokens(request);
        return new LiveRun(_live.Silo(silo ?? ""), _time, since ?? _time.GetTimestamp(), others, prompt);
    }

    /// <summary>
    /// Counts a run this router sends to <paramref name="expertId"/> on <paramref name="silo"/> among
    /// the sequences that replica's engine decodes together, until the returned handle is disposed.
    /// Call it after <see cref="Track"/> for the same run.
    /// </summary>
    public ReplicaRun TrackReplica(string expertId, string? silo)
    {
        ArgumentNullException.ThrowIfNull(expertId);
        silo ??= "";
        return new ReplicaRun(_live.Replica(expertId, silo), Math.Max(0, RunningOn(silo) - 1), Elsewhere(expertId, silo, 0));
    }

    /// <summary>Runs this router has in flight on <paramref name="expertId"/>'s replica on <paramref name="silo"/>.</summary>
    public int RunningOnReplica(string expertId, string silo) => _live.RunningOnReplica(expertId, silo);

    /// <summary>
    /// Refines the estimates with a finished run (simulated runs teach nothing): the calibration of
    /// the expert on the silo, the host's pace and contention, and, with <paramref name="run"/>, the
    /// time outside the engine. <paramref name="replica"/> says how many runs shared the engine.
    /// </summary>
    public void Observe(ExpertManifest expert, SiloInfo silo, GenerationMetrics metrics, double energyJoules, LiveRun? run = null, ReplicaRun? replica = null)
    {
        if (metrics.Simulated || metrics.GeneratedTokens <= 0 || metrics.TotalMs <= 0)
        {
            return;
        }

        Register(expert, silo.Silo, silo.Device);
        _manifests.TryAdd(expert.Id, expert);
        var observation = CostObservation.FromMetrics(metrics, energyJoules > 0 ? energyJoules : null);
        if (observation.Validate().Count == 0)
        {
            _model.Observe(expert.Id, silo.Silo, observation);
        }

        // The load the run met, averaged over when it was sent and now it has ended: sequences on
        // its own engine (never more than the engine says shared a batch with it), and the rest of the host.
        var met = Met(expert.Id, silo.Silo, metrics, run, replica);
        // A run that shared its batch for any part of its time is no evidence of the solo speed.
        var seen = metrics with { BatchSize = met.Same > 0 ? Math.Max(2, (int)Math.Round(met.Same) + 1) : 1 };

        // The silo's meter shared the run's energy with the silo's other sequences: the busy power is the share times them.
        var joules = energyJoules > 0 ? energyJoules * (1 + met.Silo) : (double?)null;
        if (run is not null && _calibrations.TryGetValue((expert.Id, silo.Silo), out var before))
        {
            // Brought back to the calibration's terms (pace 1, alone on the host): the busy time
            // shrinks by the host's factor, and the energy with it, so the busy power stays as measured.
            var factor = LearnHost(silo.Silo, before, seen, met.Same, met.Elsewhere);
            seen = Normalized(seen, factor);
            joules /= factor;
        }

        // A run that met other engines on its host is brought back to the calibration's terms by the
        // host's line, which is itself a fit: it weighs less the more it met, so what the line got
        // wrong under load is not learned as the engine's speed, to be unlearned run by run once the
        // load is gone; and the first run without such load that is far off corrects it at once.
        var key = (expert.Id, silo.Silo);
        var evidence = 1 / (1 + Math.Max(0, met.Elsewhere));
        var afterLoad = _afterLoad.TryGetValue(key, out var loaded) && loaded;
        _learnedHere[key] = true;
        _calibrations.AddOrUpdate(
            key,
            _ => EngineCalibrator.FromProbe(seen, joules, EnergyMeters.Model, _rules with { ProbeConfidence = 1 }, run?.EstimatedPromptTokens),
            (_, known) => EngineCalibrator.Fold(known, seen, joules, _rules, run?.EstimatedPromptTokens, evidence, afterLoad));
        _afterLoad[key] = evidence < 1;
        if (run is not null)
        {
            // Kept apart for a quiet host and a busy one: time spent waiting for cores and turns under
            // load would otherwise stay in a quiet host's estimate for many runs after the load ends.
            var outside = Math.Max(0, run.ElapsedMs - metrics.TotalMs);
            var busy = run.OthersAtStart > 0 || RunningOnHost(silo.Silo) > 1;
            _dispatch.AddOrUpdate((silo.Silo, busy), _ => new Dispatch(outside, 1), (_, known) => known.With(outside));
        }
    }

    /// <summary>
    /// How much slower (above 1) or faster the silo's host runs now than its experts' calibrations say,
    /// with nothing else running on it: every run on the host moves it, so a box that other work slows
    /// down is followed within a few runs of any expert.
    /// </summary>
    public double Pace(string silo) => _hosts.TryGetValue(_live.Host(silo), out var host) ? host.Pace : 1;

    /// <summary>What each sequence on another engine of <paramref name="silo"/>'s host adds to an engine's time, once learned.</summary>
    public double? HostSlowdown(string silo) => _hosts.TryGetValue(_live.Host(silo), out var host) ? host.Slowdown : null;

    /// <summary>
    /// What competes with <paramref name="expertId"/>'s engine on <paramref name="silo"/> for the
    /// host's cores: the other engines of the host running runs of this router (an engine's threads
    /// work the same whether its batch holds one sequence or several), or, when this router tracks
    /// no runs per replica there, the sequences running on the host besides the engine's own.
    /// </summary>
    public int Elsewhere(string expertId, string silo, int same) => _live.Elsewhere(expertId, silo, same);

    /// <summary>Time outside the engine learned for <paramref name="silo"/> in its host's state now (quiet or busy), else in the other state.</summary>
    private double? DispatchMs(string silo)
    {
        var busy = RunningOnHost(silo) > 0;
        return _dispatch.TryGetValue((silo, busy), out var d) || _dispatch.TryGetValue((silo, !busy), out d) ? d.Ms : null;
    }

    /// <summary>The multiplier on a calibrated time with <paramref name="elsewhere"/> sequences on the host's other engines.</summary>
    private double HostFactor(string silo, EngineCalibration calibration, double elsewhere)
        => _hosts.TryGetValue(_live.Host(silo), out var host) ? host.Factor(elsewhere) : EngineCalibrator.LoadFactor(calibration, (int)Math.Round(elsewhere));

    /// <summary>The load a finished run met, each count averaged over its start and its end.</summary>
    private LoadMet Met(string expertId, string silo, GenerationMetrics metrics, LiveRun? run, ReplicaRun? replica)
    {
        var host = run is null ? 0 : (run.OthersAtStart + Math.Max(0, RunningOnHost(silo) - 1)) / 2.0;
        var batched = Math.Max(0, metrics.BatchSize - 1);
        var same = replica is null
            ? Math.Min(batched, host)
            : Math.Min(batched, (replica.OthersAtStart + Math.Max(0, RunningOnReplica(expertId, silo) - 1)) / 2.0);
        var onSilo = replica is null ? same : Math.Max(same, (replica.SiloOthersAtStart + Math.Max(0, RunningOn(silo) - 1)) / 2.0);
        var elsewhere = replica is null ? Math.Max(0, host - same) : (replica.EnginesElsewhereAtStart + Elsewhere(expertId, silo, 0)) / 2.0;
        return new LoadMet(same, elsewhere, onSilo);
    }

    /// <summary>Teaches the host's line from a run; returns the factor the run met.</summary>
    private double LearnHost(string silo, EngineCalibration before, GenerationMetrics metrics, double same, double elsewhere)
    {
        var alone = EngineCalibrator.PredictMs(before, new RequestShape(Math.Max(0, metrics.PromptTokens - metrics.ReusedPromptTokens), metrics.GeneratedTokens), (int)Math.Round(same));
        var busy = metrics.TotalMs - metrics.QueueMs;
        var host = _hosts.GetOrAdd(_live.Host(silo), _ => new HostContention(before.LoadSlowdown));
        return alone <= 0 || busy <= 0 ? host.Factor(elsewhere) : host.Observe(elsewhere, busy / alone);
    }

    /// <summary>A run's metrics as they would have been at pace 1.</summary>
    private static GenerationMetrics Normalized(GenerationMetrics metrics, double pace) => pace is <= 0 or 1 ? metrics : metrics with
    {
        TotalMs = metrics.TotalMs / pace,
        TimeToFirstTokenMs = metrics.TimeToFirstTokenMs / pace,
        QueueMs = metrics.QueueMs / pace,
        PrefillTokensPerSecond = metrics.PrefillTokensPerSecond * pace,
        DecodeTokensPerSecond = metrics.DecodeTokensPerSecond * pace,
    };

    /// <summary>The calibration learned for <paramref name="expertId"/> on <paramref name="silo"/>, if any.</summary>
    public EngineCalibration? Calibration(string expertId, string silo) => _calibrations.TryGetValue((expertId, silo), out var c) ? c : null;

    /// <summary>The refinements learned so far, per expert and silo.</summary>
    public IReadOnlyList<CostRefinement> Refinements() => _model.Refinements();

    /// <summary>The replica's calibration, or a prior scaled from the experts measured on the same silo, or null.</summary>
    private EngineCalibration? CalibrationFor(ExpertManifest expert, SiloInfo silo)
    {
        if (_calibrations.TryGetValue((expert.Id, silo.Silo), out var measured))
        {
            return measured;
        }

        var peers = _calibrations
            .Where(c => c.Key.Silo == silo.Silo && _manifests.ContainsKey(c.Key.Expert))
            .Select(c => (c.Value, RooflinePerToken(_manifests[c.Key.Expert], silo.Device)))
            .ToList();
        return SiloScale.From(peers) is { } scale
            ? EngineCalibrator.Prior(RooflinePerToken(expert, silo.Device), scale, _rules)
            : null;
    }

    /// <summary>The roofline's milliseconds for one prompt token (in a long prompt) and one generated token.</summary>
    private CostEstimate RooflinePerToken(ExpertManifest expert, Devices.DeviceProfile device)
    {
        const int Prompt = 512;
        var cost = ExpertCostModel.Roofline(ExpertCostProfile.FromManifest(expert), device, new RequestShape(Prompt, 1), _model.Options);
        return new CostEstimate(cost.PrefillMs / Prompt, cost.DecodeMs, 0, 0);
    }

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

    /// <summary>The load a run met: sequences on its engine, on the host's other engines, and on its silo (its meter).</summary>
    private readonly record struct LoadMet(double Same, double Elsewhere, double Silo);

    /// <summary>Time between the router and the engine (messages, scheduling, batch window), learned per silo.</summary>
    private sealed record Dispatch(double Ms, double Confidence)
    {
        public Dispatch With(double seen)
            => new(((Ms * Confidence) + seen) / (Confidence + 1), Math.Min(Confidence + 1, MaxDispatchConfidence));
    }

    /// <summary>The content of the catalog snapshot taken last.</summary>
    private sealed record TakenSnapshot(IReadOnlyList<ExpertManifest> Experts, IReadOnlyList<ReplicaStatus> Replicas);
}
