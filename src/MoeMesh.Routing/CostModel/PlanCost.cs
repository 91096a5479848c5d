namespace MoeMesh.Routing.CostModel;

/// <summary>One expert run in a plan: the device it runs on and its own predicted cost.</summary>
/// <param name="Device">A small index naming the device (experts with the same index share it).</param>
/// <param name="LatencyMs">The run's predicted latency, transfer included.</param>
/// <param name="EnergyJoules">The run's predicted energy.</param>
public readonly record struct PlanItem(int Device, double LatencyMs, double EnergyJoules);

/// <summary>Costs a plan pays on top of its expert runs.</summary>
public sealed record PlanOverheads
{
    /// <summary>No overheads.</summary>
    public static PlanOverheads None { get; } = new();

    /// <summary>Added to the latency once the plan has two or more experts (vote or aggregation of their answers).</summary>
    public double CombineLatencyMs { get; init; }

    /// <summary>Added to the energy once the plan has two or more experts.</summary>
    public double CombineEnergyJoules { get; init; }

    /// <summary>Fixed latency per device path that the plan uses (connection set-up), indexed by device; missing entries are 0.</summary>
    public IReadOnlyList<double> DevicePathLatencyMs { get; init; } = [];

    /// <summary>The fixed latency of device <paramref name="device"/>'s path.</summary>
    public double PathLatency(int device) => (uint)device < (uint)DevicePathLatencyMs.Count ? DevicePathLatencyMs[device] : 0;

    /// <summary>Problems with the figures; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        CostChecks.NonNegative(problems, "combine latency (ms)", CombineLatencyMs);
        CostChecks.NonNegative(problems, "combine energy (J)", CombineEnergyJoules);
        for (var d = 0; d < DevicePathLatencyMs.Count; d++)
        {
            CostChecks.NonNegative(problems, $"path latency of device {d} (ms)", DevicePathLatencyMs[d]);
        }

        return problems;
    }
}

/// <summary>Predicted latency and energy of a whole plan.</summary>
public readonly record struct PlanCost(double LatencyMs, double EnergyJoules, int Experts);

/// <summary>
/// Composes expert costs into a plan cost. Experts on one device run one after another, experts on
/// different devices run in parallel, so latency is the slowest device path plus the combine step;
/// energy is the sum. Both only grow when an expert is added, which the subset search relies on.
/// </summary>
public static class PlanCostCalculator
{
    /// <summary>The cost of running every item in <paramref name="items"/>.</summary>
    public static PlanCost Compute(ReadOnlySpan<PlanItem> items, PlanOverheads? overheads = null)
    {
        overheads ??= PlanOverheads.None;
        if (items.IsEmpty)
        {
            return new PlanCost(0, 0, 0);
        }

        var maxDevice = 0;
        foreach (var item in items)
        {
            if (item.Device < 0)
            {
                throw new ArgumentException($"device index must not be negative, got {item.Device}", nameof(items));
            }

            CostChecks.ThrowIfInvalid(item.LatencyMs, $"latency (ms) of the run on device {item.Device}");
            CostChecks.ThrowIfInvalid(item.EnergyJoules, $"energy (J) of the run on device {item.Device}");
            maxDevice = Math.Max(maxDevice, item.Device);
        }

        var paths = new double[maxDevice + 1];
        var used = new bool[maxDevice + 1];
        var energy = 0.0;
        foreach (var item in items)
        {
            paths[item.Device] += item.LatencyMs;
            used[item.Device] = true;
            energy += item.EnergyJoules;
        }

        var latency = 0.0;
        for (var d = 0; d < paths.Length; d++)
        {
            if (used[d])
            {
                latency = Math.Max(latency, paths[d] + overheads.PathLatency(d));
            }
        }

        if (items.Length >= 2)
        {
            latency += overheads.CombineLatencyMs;
            energy += overheads.CombineEnergyJoules;
        }

        return new PlanCost(latency, energy, items.Length);
    }
}
