using MoeMesh.Devices;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Routing.Fitting;

/// <summary>
/// The pool, where each expert runs and what a request costs there: everything routers share in an
/// evaluation. Built from the training split only (output lengths are learned there).
/// </summary>
public sealed class RoutingEnvironment
{
    private readonly (int Expert, int Device)[] _placements;
    private readonly int[] _outputTokens;

    private RoutingEnvironment(
        IReadOnlyList<string> experts,
        int[] slots,
        IReadOnlyList<string> devices,
        (int Expert, int Device)[] placements,
        ExpertCostModel costModel,
        int[] outputTokens,
        DeviceAssignment assignment,
        EvaluationOptions options)
    {
        Experts = experts;
        Slots = slots;
        Devices = devices;
        _placements = placements;
        CostModel = costModel;
        _outputTokens = outputTokens;
        Assignment = assignment;
        Options = options;
    }

    /// <summary>The pool's experts (model names), in the order every router indexes them.</summary>
    public IReadOnlyList<string> Experts { get; }

    /// <summary>Each expert's answer index in the recorded data.</summary>
    public IReadOnlyList<int> Slots { get; }

    /// <summary>Device ids, in the order candidates index them.</summary>
    public IReadOnlyList<string> Devices { get; }

    /// <summary>The placement used.</summary>
    public DeviceAssignment Assignment { get; }

    /// <summary>The cost model every candidate's cost comes from.</summary>
    public ExpertCostModel CostModel { get; }

    /// <summary>The settings in use.</summary>
    public EvaluationOptions Options { get; }

    /// <summary>Runs a question can have: one per expert placement.</summary>
    public int CandidateCount => _placements.Length;

    /// <summary>
    /// Builds the environment. Throws <see cref="ArgumentException"/> listing every problem: pool
    /// models missing from the data or the catalogue, experts without a device, devices without a
    /// profile, invalid profiles or options.
    /// </summary>
    public static RoutingEnvironment Create(
        TrainingSet train,
        IReadOnlyList<string> pool,
        DeviceAssignment assignment,
        IReadOnlyDictionary<string, DeviceProfile> profiles,
        EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(profiles);
        ArgumentNullException.ThrowIfNull(options);
        var problems = SetupProblems(train, pool, assignment, profiles, options);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"cannot set up the evaluation: {string.Join("; ", problems)}");
        }

        var costModel = new ExpertCostModel(options.CostModel);
        var devices = UsedDevices(pool, assignment);
        foreach (var device in devices)
        {
            costModel.RegisterDevice(device, profiles.TryGetValue(device, out var profile) ? profile : DeviceAssignment.CloudProfile);
        }

        foreach (var expert in pool)
        {
            costModel.RegisterExpert(ExpertCostProfile.FromManifest(DeviceAssignment.ManifestOf(expert, options.Quantization)!) with { ExpertId = expert });
        }

        var placements = Placements(pool, assignment, devices);
        var slots = pool.Select(train.ModelIndex).ToArray();
        var outputs = FitOutputTokens(train, slots, options);
        return new RoutingEnvironment(pool.ToArray(), slots, devices, placements, costModel, outputs, assignment, options);
    }

    /// <summary>Every problem with the setup: options, pool size, pool models without data or catalogue entry, the assignment.</summary>
    private static List<string> SetupProblems(
        TrainingSet train,
        IReadOnlyList<string> pool,
        DeviceAssignment assignment,
        IReadOnlyDictionary<string, DeviceProfile> profiles,
        EvaluationOptions options)
    {
        var problems = new List<string>(options.Validate());
        if (pool.Count == 0)
        {
            problems.Add("the pool is empty");
        }

        if (pool.Count > BudgetedSubsetSelector.MaxCandidates)
        {
            problems.Add($"the pool has {pool.Count} experts; at most {BudgetedSubsetSelector.MaxCandidates} are supported");
        }

        foreach (var expert in pool)
        {
            if (!train.Models.Contains(expert, StringComparer.Ordinal))
            {
                problems.Add($"pool model '{expert}' has no recorded answers in the data");
            }

            if (!RecordedModelCatalog.TryGet(expert, out _))
            {
                problems.Add($"pool model '{expert}' is not catalogued, so its size and cost are unknown");
            }
        }

        problems.AddRange(assignment.Validate(pool, d => profiles.ContainsKey(d) || d == DeviceAssignment.CloudDeviceId));
        foreach (var placement in assignment.Placements)
        {
            if (RecordedModelCatalog.TryGet(placement.Expert, out var model) && model.CloudOnly && placement.DeviceId != DeviceAssignment.CloudDeviceId)
            {
                problems.Add($"'{placement.Expert}' is only available as a hosted model; assign it to '{DeviceAssignment.CloudDeviceId}'");
            }
        }

        return problems;
    }

    /// <summary>The devices that hold at least one pool expert, in the assignment's order.</summary>
    private static string[] UsedDevices(IReadOnlyList<string> pool, DeviceAssignment assignment)
    {
        var devices = assignment.Devices.Where(d => assignment.Placements.Any(p => p.DeviceId == d && pool.Contains(p.Expert, StringComparer.Ordinal))).ToArray();
        if (devices.Length > BudgetedSubsetSelector.MaxCandidates)
        {
            throw new ArgumentException($"at most {BudgetedSubsetSelector.MaxCandidates} devices are supported, got {devices.Length}");
        }

        return devices;
    }

    /// <summary>Every (expert, device) placement of the pool, as indices into the pool and <paramref name="devices"/>.</summary>
    private static (int, int)[] Placements(IReadOnlyList<string> pool, DeviceAssignment assignment, string[] devices)
    {
        var placementList = new List<(int, int)>();
        for (var e = 0; e < pool.Count; e++)
        {
            foreach (var device in assignment.DevicesOf(pool[e]))
            {
                placementList.Add((e, Array.IndexOf(devices, device)));
            }
        }

        if (placementList.Count > BudgetedSubsetSelector.MaxCandidates)
        {
            throw new ArgumentException($"the assignment has {placementList.Count} placements; at most {BudgetedSubsetSelector.MaxCandidates} are supported");
        }

        return placementList.ToArray();
    }

    /// <summary>Output tokens assumed for <paramref name="expert"/>: its mean recorded output on the training split, or the configured default.</summary>
    public int OutputTokens(int expert) => _outputTokens[expert];

    /// <summary>Prompt tokens of a question of <paramref name="promptChars"/> characters, template included.</summary>
    public int PromptTokens(int promptChars) => PromptTokenEstimate.Of(promptChars, Options.CharsPerToken, Options.PromptTemplateTokens);

    /// <summary>
    /// Predicted cost of every placement serving a prompt of <paramref name="promptChars"/>
    /// characters, skipping experts <paramref name="available"/> rules out; returns how many were written.
    /// </summary>
    public int Candidates(int promptChars, Span<PlanningCandidate> into, Func<int, bool>? available = null)
    {
        if (into.Length < _placements.Length)
        {
            throw new ArgumentException($"need room for {_placements.Length} candidates", nameof(into));
        }

        var prompt = PromptTokens(promptChars);
        var count = 0;
        for (var i = 0; i < _placements.Length; i++)
        {
            var (expert, device) = _placements[i];
            if (available is not null && !available(expert))
            {
                continue;
            }

            var cost = CostModel.Predict(Experts[expert], Devices[device], new RequestShape(prompt, _outputTokens[expert]));
            into[count++] = new PlanningCandidate(expert, device, cost.LatencyMs, cost.EnergyJoules);
        }

        return count;
    }

    /// <summary>
    /// The candidates for a recorded question: an expert without a recorded answer to it is
    /// unavailable for it, as a model that is down would be (its answer is not read, only whether it exists).
    /// </summary>
    public PlanningCandidate[] CandidatesFor(RecordedQuestion question)
    {
        ArgumentNullException.ThrowIfNull(question);
        Span<PlanningCandidate> buffer = stackalloc PlanningCandidate[_placements.Length];
        var count = Candidates(question.PromptChars, buffer, expert => question.TryGetAnswer(Slots[expert], out _));
        return buffer[..count].ToArray();
    }

    /// <summary>
    /// Predicted cost of <paramref name="expert"/> aggregating <paramref name="responders"/> answers:
    /// it reads the question plus every responder's output, then writes its own; its cheapest placement.
    /// </summary>
    public PlanningCandidate AggregatorCandidate(int promptChars, int expert, int responders)
    {
        var prompt = PromptTokens(promptChars) + (responders * Options.DefaultOutputTokens);
        PlanningCandidate? best = null;
        foreach (var (e, device) in _placements)
        {
            if (e != expert)
            {
                continue;
            }

            var cost = CostModel.Predict(Experts[e], Devices[device], new RequestShape(prompt, _outputTokens[e]));
            if (best is null || cost.EnergyJoules < best.Value.EnergyJoules)
            {
                best = new PlanningCandidate(e, device, cost.LatencyMs, cost.EnergyJoules);
            }
        }

        return best ?? throw new ArgumentOutOfRangeException(nameof(expert), expert, "the expert has no placement");
    }

    private static int[] FitOutputTokens(TrainingSet train, int[] slots, EvaluationOptions options)
    {
        const int MinRecorded = 20;
        var tokens = new int[slots.Length];
        for (var e = 0; e < slots.Length; e++)
        {
            long chars = 0;
            var recorded = 0;
            foreach (var question in train.Questions)
            {
                if (question.TryGetAnswer(slots[e], out var answer) && answer.OutputChars > 0)
                {
                    chars += answer.OutputChars;
                    recorded++;
                }
            }

            tokens[e] = recorded >= MinRecorded
                ? Math.Max(1, (int)Math.Round(chars / (double)recorded / options.CharsPerToken))
                : options.DefaultOutputTokens;
        }

        return tokens;
    }
}
