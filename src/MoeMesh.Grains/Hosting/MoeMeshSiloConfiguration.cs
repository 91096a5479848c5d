using System.Text.Json;
using Microsoft.Extensions.Configuration;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Placement;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Hosting;

/// <summary>
/// A silo's configuration resolved and checked at start-up: the device profile, the manifests
/// and the memory budget. Building it throws <see cref="MoeMeshConfigurationException"/> with
/// every problem, so a misconfigured silo stops before it joins the mesh.
/// </summary>
public sealed class MoeMeshSiloConfiguration
{
    private MoeMeshSiloConfiguration(MoeMeshSiloOptions options, DeviceProfile device, IReadOnlyList<ExpertManifest> experts, long budget)
    {
        Options = options;
        Device = device;
        Experts = experts;
        ModelMemoryBudgetBytes = budget;
    }

    public MoeMeshSiloOptions Options { get; }

    public DeviceProfile Device { get; }

    public IReadOnlyList<ExpertManifest> Experts { get; }

    public long ModelMemoryBudgetBytes { get; }

    /// <summary>Binds the <c>MoeMesh</c> section of <paramref name="configuration"/> and resolves it.</summary>
    public static MoeMeshSiloConfiguration Load(IConfiguration configuration, string? contentRoot = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        MoeMeshSiloOptions options;
        try
        {
            options = configuration.GetSection(MoeMeshSiloOptions.SectionName).Get<MoeMeshSiloOptions>() ?? new MoeMeshSiloOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder reports a value it cannot convert ("abc" for a port, an unknown enum name).
            throw new MoeMeshConfigurationException($"MoeMesh configuration cannot be read: {ex.Message}", ex);
        }

        return Resolve(options, contentRoot ?? configuration["contentRoot"]);
    }

    /// <summary>Resolves already-bound options.</summary>
    public static MoeMeshSiloConfiguration Resolve(MoeMeshSiloOptions options, string? contentRoot = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = ValidateEndpointsAndClustering(options);
        MoeMeshConfigurationException.ThrowIfAny(problems, "MoeMesh silo configuration is invalid");

        var device = DeviceProfileResolver.Resolve(options.Device, contentRoot);
        var experts = ExpertManifestLoader.Load(options.Experts.Manifests, contentRoot);
        var budget = options.Experts.ModelMemoryBudgetBytes ?? device.MemoryBytes;
        if (budget <= 0 || (device.Kind != DeviceKind.Cloud && budget > device.MemoryBytes))
        {
            throw new MoeMeshConfigurationException(
                $"MoeMesh:Experts:ModelMemoryBudgetBytes must be between 1 and the device memory ({device.MemoryBytes} bytes), got {budget}.");
        }

        return new MoeMeshSiloConfiguration(options, device, experts, budget);
    }

    /// <summary>The silo metadata that tells placement what this silo is and may host.</summary>
    public Dictionary<string, string> ToSiloMetadata()
    {
        var metadata = DeviceProfileMetadata.ToMetadata(Device);
        metadata[SiloMetadataKeys.HostedExperts] = string.Join(',', Experts.Select(e => e.Id));
        metadata[SiloMetadataKeys.ModelMemoryBudgetBytes] = ModelMemoryBudgetBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var expert in Experts)
        {
            metadata[ExpertRequirement.MetadataKey(expert.Id)] = ExpertRequirement.From(expert).Format();

            // The whole manifest travels too, so the catalog can rebuild itself from membership alone.
            metadata[SiloMetadataKeys.ManifestPrefix + expert.Id] = JsonSerializer.Serialize(expert, MoeMeshJson.Compact);
        }

        if (Options.Clustering.Provider != ClusteringProvider.External)
        {
            var host = Options.Clustering.Provider == ClusteringProvider.Localhost ? "127.0.0.1" : Options.Endpoints.AdvertisedAddress ?? System.Net.Dns.GetHostName();
            metadata[SiloMetadataKeys.Gateway] = $"{host}:{Options.Endpoints.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }

        return metadata;
    }

    private static List<string> ValidateEndpointsAndClustering(MoeMeshSiloOptions options)
    {
        var problems = new List<string>();
        CheckPort(problems, "MoeMesh:Endpoints:SiloPort", options.Endpoints.SiloPort);
        CheckPort(problems, "MoeMesh:Endpoints:GatewayPort", options.Endpoints.GatewayPort);
        CheckPort(problems, "MoeMesh:Endpoints:PrimarySiloPort", options.Endpoints.PrimarySiloPort);
        if (options.Endpoints.SiloPort == options.Endpoints.GatewayPort)
        {
            problems.Add($"MoeMesh:Endpoints:SiloPort and GatewayPort must differ (both {options.Endpoints.SiloPort})");
        }

        if (!Enum.IsDefined(options.Clustering.Provider))
        {
            problems.Add($"MoeMesh:Clustering:Provider must be one of {string.Join(", ", Enum.GetNames<ClusteringProvider>())}");
        }

        if (options.Clustering.Provider is ClusteringProvider.Redis or ClusteringProvider.Postgres
            && string.IsNullOrWhiteSpace(options.Clustering.ConnectionString))
        {
            problems.Add($"MoeMesh:Clustering:ConnectionString is required for {options.Clustering.Provider} clustering");
        }

        if (string.IsNullOrWhiteSpace(options.Clustering.ClusterId))
        {
            problems.Add("MoeMesh:Clustering:ClusterId must not be empty");
        }

        if (string.IsNullOrWhiteSpace(options.Clustering.ServiceId))
        {
            problems.Add("MoeMesh:Clustering:ServiceId must not be empty");
        }

        problems.AddRange(options.Tls.Problems());
        problems.AddRange(options.Membership.Problems());
        return problems;
    }

    private static void CheckPort(List<string> problems, string key, int port)
    {
        if (port is < 1 or > 65535)
        {
            problems.Add($"{key} must be between 1 and 65535, got {port}");
        }
    }
}
