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
        var options = new MoeMeshSiloOptions();
        Bind(configuration, options);
        return Resolve(options, contentRoot ?? configuration["contentRoot"]);
    }

    /// <summary>
    /// Binds the <c>MoeMesh</c> section of <paramref name="configuration"/> onto <paramref name="options"/>;
    /// a value the binder cannot convert ("abc" for a port, an unknown enum name) is a
    /// <see cref="MoeMeshConfigurationException"/> naming the setting.
    /// </summary>
    public static void Bind(IConfiguration configuration, MoeMeshSiloOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            configuration.GetSection(MoeMeshSiloOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new MoeMeshConfigurationException($"MoeMesh configuration cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Resolves already-bound options.</summary>
    public static MoeMeshSiloConfiguration Resolve(MoeMeshSiloOptions options, string? contentRoot = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        MoeMeshConfigurationException.ThrowIfAny(MoeMeshSiloOptionsValidator.Problems(options), "MoeMesh silo configuration is invalid");

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
}
