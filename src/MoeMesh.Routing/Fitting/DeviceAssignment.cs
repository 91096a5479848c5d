using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Routing.Data;

namespace MoeMesh.Routing.Fitting;

/// <summary>One expert placed on one device.</summary>
public sealed record DevicePlacement(string DeviceId, string Expert);

/// <summary>
/// Which device runs which expert. Written as <c>device:expert,expert;device:expert</c>, for example
/// <c>jetson-agx-orin-64gb:mathstral-7B,Phi-3-mini-4k-instruct;rtx-4090-desktop:Meta-Llama-3_1-8B-Instruct</c>.
/// Device ids name profiles (<c>deploy/profiles/&lt;id&gt;.json</c>), or <see cref="CloudDeviceId"/>
/// for hosted models. An expert listed under two devices has two replicas; a plan uses one.
/// </summary>
public sealed class DeviceAssignment
{
    /// <summary>The device id of hosted models: network latency, no local energy.</summary>
    public const string CloudDeviceId = "cloud";

    /// <summary>The Jetson AGX Orin 64GB profile id.</summary>
    public const string JetsonId = "jetson-agx-orin-64gb";

    /// <summary>The RTX 4090 desktop profile id.</summary>
    public const string Rtx4090Id = "rtx-4090-desktop";

    /// <summary>Weights above this (at the default 4-bit quantisation) do not go on the RTX 4090 by default (24 GB, less context buffers).</summary>
    public const long Rtx4090DefaultLimitBytes = 21_000_000_000;

    /// <summary>Weights above this do not go on the Jetson by default (64 GB shared with the OS and context buffers).</summary>
    public const long JetsonDefaultLimitBytes = 60_000_000_000;

    /// <summary>
    /// The default placement of the edge pool: the Jetson (frugal, large memory) holds the
    /// Mixture-of-Experts model that needs its memory, the 35B model, and the small specialists
    /// (math, Phi-3-mini, Qwen-7B, Yi-6B) whose energy efficiency matters most; the RTX 4090 (fast,
    /// power-hungry) holds the general-purpose 7–13B chat models and Yi-34B, where latency matters.
    /// </summary>
    public static IReadOnlyList<DevicePlacement> EdgeDefault { get; } =
    [
        new(JetsonId, "Mixtral-8x7B-Instruct-v0.1"),
        new(JetsonId, "c4ai-command-r-v01"),
        new(JetsonId, "mathstral-7B"),
        new(JetsonId, "Phi-3-mini-4k-instruct"),
        new(JetsonId, "Qwen1.5-7B-Chat"),
        new(JetsonId, "Yi-6b-Chat"),
        new(Rtx4090Id, "Meta-Llama-3_1-8B-Instruct"),
        new(Rtx4090Id, "Meta-Llama-3-8B"),
        new(Rtx4090Id, "Mistral-7B-Instruct-v0.2"),
        new(Rtx4090Id, "gemma-7b"),
        new(Rtx4090Id, "Yi-34B"),
        new(Rtx4090Id, "Llama-2-13b-hf"),
    ];

    /// <summary>Creates an assignment from placements; an expert may appear under several devices.</summary>
    public DeviceAssignment(IEnumerable<DevicePlacement> placements)
    {
        ArgumentNullException.ThrowIfNull(placements);
        Placements = placements.Distinct().ToArray();
        if (Placements.Count == 0)
        {
            throw new ArgumentException("a device assignment needs at least one placement", nameof(placements));
        }

        Devices = Placements.Select(p => p.DeviceId).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Every placement, in order.</summary>
    public IReadOnlyList<DevicePlacement> Placements { get; }

    /// <summary>The devices used, in order of first appearance.</summary>
    public IReadOnlyList<string> Devices { get; }

    /// <summary>Parses <c>device:expert,expert;device:expert</c>; throws <see cref="FormatException"/> naming the bad part.</summary>
    public static DeviceAssignment Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            throw new FormatException("the device assignment is empty; write it as device:expert,expert;device:expert");
        }

        var placements = new List<DevicePlacement>();
        foreach (var group in spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = group.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == group.Length - 1)
            {
                throw new FormatException($"'{group}' is not of the form device:expert,expert");
            }

            var device = group[..colon].Trim();
            var experts = group[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (experts.Length == 0)
            {
                throw new FormatException($"device '{device}' lists no experts");
            }

            placements.AddRange(experts.Select(e => new DevicePlacement(device, e)));
        }

        return placements.Count == 0
            ? throw new FormatException("the device assignment lists no experts")
            : new DeviceAssignment(placements);
    }

    /// <summary>
    /// The default assignment for <paramref name="pool"/>: <see cref="EdgeDefault"/> for edge models;
    /// other models by size: cloud-only ones and those too big for any edge box on the cloud,
    /// those fitting the RTX 4090 there, the rest on the Jetson.
    /// </summary>
    public static DeviceAssignment DefaultFor(IReadOnlyList<string> pool, string quantization = "Q4_K_M")
    {
        ArgumentNullException.ThrowIfNull(pool);
        var placements = new List<DevicePlacement>();
        foreach (var expert in pool)
        {
            var edge = EdgeDefault.Where(p => string.Equals(p.Expert, expert, StringComparison.Ordinal)).ToArray();
            if (edge.Length > 0)
            {
                placements.AddRange(edge);
                continue;
            }

            if (!RecordedModelCatalog.TryGet(expert, out var model))
            {
                throw new ArgumentException($"no default device for '{expert}': it is not a catalogued model; pass --devices", nameof(pool));
            }

            var bytes = model.CloudOnly ? long.MaxValue : model.ToManifest(quantization).WeightBytes;
            var device = model.CloudOnly || bytes > JetsonDefaultLimitBytes
                ? CloudDeviceId
                : bytes <= Rtx4090DefaultLimitBytes ? Rtx4090Id : JetsonId;
            placements.Add(new DevicePlacement(device, expert));
        }

        return new DeviceAssignment(placements);
    }

    /// <summary>The built-in profile of <see cref="CloudDeviceId"/>: a hosted model, no local memory or energy.</summary>
    public static DeviceProfile CloudProfile { get; } = new()
    {
        Name = "Hosted model (cloud API)",
        Kind = DeviceKind.Cloud,
        MemoryBytes = 0,
        MemoryBandwidthGBps = 1,
        Fp16Tflops = 1,
        IdlePowerWatts = 0,
        MaxPowerWatts = 0,
        Site = "cloud",
    };

    /// <summary>The devices of <paramref name="expert"/>, empty when it has none.</summary>
    public IReadOnlyList<string> DevicesOf(string expert)
        => Placements.Where(p => string.Equals(p.Expert, expert, StringComparison.Ordinal)).Select(p => p.DeviceId).ToArray();

    /// <summary>Problems placing <paramref name="pool"/>: experts without a device and devices without a profile.</summary>
    public IReadOnlyList<string> Validate(IReadOnlyList<string> pool, Func<string, bool> deviceKnown)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(deviceKnown);
        var problems = new List<string>();
        var unplaced = pool.Where(e => DevicesOf(e).Count == 0).ToArray();
        if (unplaced.Length > 0)
        {
            problems.Add($"no device is assigned to {string.Join(", ", unplaced)}");
        }

        foreach (var device in Devices.Where(d => !deviceKnown(d)))
        {
            problems.Add($"device '{device}' has no profile");
        }

        return problems;
    }

    /// <summary>Experts that have a device but are not in <paramref name="pool"/> (worth a warning: they will not be routed to).</summary>
    public IReadOnlyList<string> OutsidePool(IReadOnlyList<string> pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return Placements.Select(p => p.Expert).Distinct(StringComparer.Ordinal).Where(e => !pool.Contains(e, StringComparer.Ordinal)).ToArray();
    }

    /// <summary>The assignment in the <c>device:expert,expert;…</c> form.</summary>
    public override string ToString()
        => string.Join(';', Devices.Select(d => $"{d}:{string.Join(',', Placements.Where(p => p.DeviceId == d).Select(p => p.Expert))}"));

    /// <summary>Weights in bytes placed on each device (for memory reports).</summary>
    public IReadOnlyDictionary<string, long> WeightBytesByDevice(string quantization = "Q4_K_M")
        => Devices.ToDictionary(
            d => d,
            d => Placements.Where(p => p.DeviceId == d)
                .Sum(p => RecordedModelCatalog.TryGet(p.Expert, out var m) && !m.CloudOnly ? m.ToManifest(quantization).WeightBytes : 0L),
            StringComparer.Ordinal);

    /// <summary>A manifest for a catalogued model (cost figures), or null when it is not catalogued.</summary>
    public static ExpertManifest? ManifestOf(string expert, string quantization)
        => RecordedModelCatalog.TryGet(expert, out var model) ? model.ToManifest(quantization) : null;
}
