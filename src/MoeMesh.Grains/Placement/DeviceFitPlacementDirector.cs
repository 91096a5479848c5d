using System.Text;
using MoeMesh.Devices;
using MoeMesh.Errors;
using MoeMesh.Experts;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace MoeMesh.Grains.Placement;

/// <summary>Chooses the silo for an expert replica from the silos' published device metadata.</summary>
internal sealed class DeviceFitPlacementDirector(ISiloMetadataCache metadataCache) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var replica = ExpertReplica.Parse(key);
        var compatible = context.GetCompatibleSilos(target);
        var fits = FindFits(replica.ExpertId, compatible, out var refusals);
        if (fits.Count == 0)
        {
            throw new ExpertUnavailableException(DescribeRefusal(replica, compatible.Length, refusals));
        }

        // A caller may pin a replica to a silo (a failover re-plan does); honour it when that silo fits.
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, [.. fits]) is { } hinted)
        {
            return Task.FromResult(hinted);
        }

        // Stable spread: replica r of an expert goes to the r-th fitting silo after an expert-specific
        // offset, so replicas land on different silos and different experts start on different silos.
        fits.Sort((a, b) => string.CompareOrdinal(a.ToParsableString(), b.ToParsableString()));
        var offset = (int)(StableHash(replica.ExpertId) % (uint)fits.Count);
        return Task.FromResult(fits[(offset + replica.Replica) % fits.Count]);
    }

    /// <summary>
    /// Silos that may hold <paramref name="expertId"/>; <paramref name="requiredBytes"/> (default: the
    /// requirement's whole size) says how much of the silo's model memory the activation needs.
    /// </summary>
    internal List<SiloAddress> FindFits(
        string expertId, IReadOnlyList<SiloAddress> silos, out List<string> refusals, Func<ExpertRequirement, long>? requiredBytes = null)
    {
        var fits = new List<SiloAddress>();
        refusals = [];
        foreach (var silo in silos)
        {
            var metadata = metadataCache.GetSiloMetadata(silo).Metadata;
            var profile = DeviceProfileMetadata.FromMetadata(metadata);
            if (profile is null)
            {
                refusals.Add($"{silo} publishes no device profile");
                continue;
            }

            var requirement = ExpertRequirement.Parse(metadata.GetValueOrDefault(ExpertRequirement.MetadataKey(expertId)));
            if (requirement is null || !DeviceProfileMetadata.HostedExperts(metadata).Contains(expertId))
            {
                refusals.Add($"{silo} ({profile.Name}) does not hold the manifest");
                continue;
            }

            if (!requirement.AllowsKind(profile.Kind))
            {
                refusals.Add($"{silo} ({profile.Name}) is a {profile.Kind} device; the manifest allows {string.Join(", ", requirement.DeviceKinds)}");
                continue;
            }

            var budget = DeviceProfileMetadata.ModelMemoryBudget(metadata, profile);
            var required = requiredBytes?.Invoke(requirement) ?? requirement.RequiredBytes;
            if (required > budget)
            {
                refusals.Add($"{silo} ({profile.Name}) lets models use {Gib(budget)}; the expert needs {Gib(required)}");
                continue;
            }

            fits.Add(silo);
        }

        return fits;
    }

    private static string DescribeRefusal(ExpertReplica replica, int siloCount, List<string> refusals)
    {
        var text = new StringBuilder()
            .Append("No silo can host expert '").Append(replica.ExpertId).Append("' (replica ").Append(replica.Replica).Append(')');
        if (siloCount == 0)
        {
            return text.Append(": no silo is active.").ToString();
        }

        text.Append(": ").AppendJoin("; ", refusals).Append('.');
        return text.ToString();
    }

    private static string Gib(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB";

    // FNV-1a: string.GetHashCode is randomised per process, and every silo must agree.
    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }
}
