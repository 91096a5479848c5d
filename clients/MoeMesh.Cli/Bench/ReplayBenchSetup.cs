using System.Globalization;
using System.Text.Json;
using MoeMesh.Cli.Mesh;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Bench;

/// <summary>A device profile one silo of the bench runs, by the name it was given.</summary>
public sealed record ReplaySilo(string Profile, DeviceProfile Device);

/// <summary>
/// The mesh <c>moemesh bench replay</c> brings up: one silo per profile, and one replay expert per
/// model of the <c>edge</c> pool, each pinned (by <c>placement.deviceKinds</c>) to the kind of the
/// device the evaluation's default assignment gives it, so experts run where <c>moemesh eval</c>
/// assumes they run.
/// </summary>
public sealed class ReplayBenchSetup
{
    private ReplayBenchSetup(IReadOnlyList<ReplaySilo> silos, DeviceAssignment assignment, IReadOnlyList<ExpertManifest> manifests, IReadOnlyDictionary<string, DeviceProfile> devices)
    {
        Silos = silos;
        Assignment = assignment;
        Manifests = manifests;
        Devices = devices;
    }

    /// <summary>The pool the bench replays.</summary>
    public static IReadOnlyList<string> Pool => RecordedModelCatalog.EdgePool;

    public IReadOnlyList<ReplaySilo> Silos { get; }

    /// <summary>The evaluation's default assignment of the pool to device ids.</summary>
    public DeviceAssignment Assignment { get; }

    /// <summary>One manifest per expert of the pool.</summary>
    public IReadOnlyList<ExpertManifest> Manifests { get; }

    /// <summary>The profiles of the assignment's devices, by device id.</summary>
    public IReadOnlyDictionary<string, DeviceProfile> Devices { get; }

    /// <summary>The recorded model of the expert with id <paramref name="expertId"/>, or null.</summary>
    public string? ModelOf(string expertId) => Manifests.FirstOrDefault(m => m.Id == expertId)?.RecordedModel;

    /// <summary>
    /// Resolves the silos' profiles and writes nothing yet; throws <see cref="ArgumentException"/> when a
    /// profile is unknown or a device of the default assignment has no silo.
    /// </summary>
    public static ReplayBenchSetup Create(IReadOnlyList<string> profiles, string dataFile, double timeScale, int outputTokens)
    {
        if (profiles.Count == 0)
        {
            throw new ArgumentException("--silos names no profile");
        }

        var silos = new List<ReplaySilo>();
        foreach (var profile in profiles)
        {
            try
            {
                var name = LooksLikePath(profile) ? Path.GetFullPath(profile) : profile;
                silos.Add(new ReplaySilo(name, DeviceProfileResolver.Resolve(new DeviceOptions { Profile = name }, Environment.CurrentDirectory)));
            }
            catch (MoeMeshConfigurationException e)
            {
                throw new ArgumentException(e.Message, e);
            }
        }

        var assignment = DeviceAssignment.DefaultFor(Pool);
        var devices = new Dictionary<string, DeviceProfile>(StringComparer.Ordinal);
        foreach (var device in assignment.Devices)
        {
            var silo = silos.FirstOrDefault(s => string.Equals(ProfileId(s.Profile), device, StringComparison.Ordinal))
                ?? throw new ArgumentException(
                    $"the evaluation's default assignment runs {string.Join(", ", assignment.Placements.Where(p => p.DeviceId == device).Select(p => p.Expert))} on '{device}', but no silo has that profile; --silos must include {string.Join(" and ", assignment.Devices)}");
            devices[device] = silo.Device;
        }

        var manifests = new List<ExpertManifest>();
        foreach (var model in Pool)
        {
            RecordedModelCatalog.TryGet(model, out var catalogued);
            var device = devices[assignment.DevicesOf(model).Single()];
            manifests.Add(catalogued.ToManifest() with
            {
                RecordedModel = model,
                ModelPath = dataFile,
                Placement = new PlacementConstraints { DeviceKinds = [device.Kind] },
                EngineOptions = new Dictionary<string, string>
                {
                    [ReplayEngineProvider.TimeScaleOption] = timeScale.ToString("R", CultureInfo.InvariantCulture),
                    [ReplayEngineProvider.OutputTokensOption] = outputTokens.ToString(CultureInfo.InvariantCulture),
                },
            });
        }

        return new ReplayBenchSetup(silos, assignment, manifests, devices);
    }

    /// <summary>Silos whose device kind is that of an assigned device but whose profile differs: experts may land there and cost other than eval predicts.</summary>
    public IEnumerable<string> PlacementWarnings()
    {
        foreach (var silo in Silos)
        {
            var id = ProfileId(silo.Profile);
            if (!Devices.ContainsKey(id) && Devices.Values.Any(d => d.Kind == silo.Device.Kind))
            {
                yield return $"silo '{silo.Profile}' is a {silo.Device.Kind} device like an assigned one, so experts pinned to {silo.Device.Kind} may run there at other costs than the evaluation assumes";
            }
        }
    }

    /// <summary>Writes the manifests into <paramref name="folder"/> (created), one <c>&lt;id&gt;.json</c> each.</summary>
    public void WriteManifests(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var manifest in Manifests)
        {
            File.WriteAllText(Path.Combine(folder, manifest.Id + ".json"), JsonSerializer.Serialize(manifest, MoeMeshJson.Options));
        }
    }

    /// <summary>The silo specs on consecutive ports.</summary>
    public IReadOnlyList<LocalSiloSpec> SiloSpecs(int siloPort, int gatewayPort)
        => LocalMesh.Plan(Silos.Select(s => s.Profile).ToList(), siloPort, gatewayPort);

    /// <summary>The profile id of a profile name or path (the file name without extension).</summary>
    public static string ProfileId(string profile) => LooksLikePath(profile) ? Path.GetFileNameWithoutExtension(profile) : profile;

    private static bool LooksLikePath(string profile)
        => profile.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || profile.Contains('/') || profile.Contains(Path.DirectorySeparatorChar);
}
