using System.Text.Json;
using MoeMesh.Devices;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Hosting;

/// <summary>Finds a device profile by name or path, applies overrides, and validates it.</summary>
public static class DeviceProfileResolver
{
    /// <summary>Folders searched for named profiles, in order.</summary>
    public static IReadOnlyList<string> SearchFolders(string? contentRoot)
    {
        var folders = new List<string> { Path.Combine(AppContext.BaseDirectory, "profiles") };
        if (contentRoot is not null)
        {
            folders.Add(Path.Combine(contentRoot, "profiles"));
            folders.Add(Path.Combine(contentRoot, "deploy", "profiles"));
        }

        return folders;
    }

    /// <summary>Names of the ready-made profiles found.</summary>
    public static IReadOnlyList<string> AvailableProfiles(string? contentRoot = null)
        => SearchFolders(contentRoot)
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.json"))
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Resolves the profile of <paramref name="options"/>; throws <see cref="MoeMeshConfigurationException"/> naming every problem.</summary>
    public static DeviceProfile Resolve(DeviceOptions options, string? contentRoot = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = Locate(options.Profile, contentRoot);
        var profile = Load(path);
        profile = profile with
        {
            Name = options.Name ?? profile.Name,
            Kind = options.Kind ?? profile.Kind,
            MemoryBytes = options.MemoryBytes ?? profile.MemoryBytes,
            MemoryBandwidthGBps = options.MemoryBandwidthGBps ?? profile.MemoryBandwidthGBps,
            Fp16Tflops = options.Fp16Tflops ?? profile.Fp16Tflops,
            IdlePowerWatts = options.IdlePowerWatts ?? profile.IdlePowerWatts,
            MaxPowerWatts = options.MaxPowerWatts ?? profile.MaxPowerWatts,
            Site = options.Site ?? profile.Site,
        };
        MoeMeshConfigurationException.ThrowIfAny(profile.Validate(), $"Device profile '{options.Profile}' ({path}) is invalid");
        return profile;
    }

    /// <summary>Reads a profile file.</summary>
    public static DeviceProfile Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<DeviceProfile>(stream, MoeMeshJson.Options)
                ?? throw new MoeMeshConfigurationException($"Device profile {path} is empty.");
        }
        catch (JsonException ex)
        {
            throw new MoeMeshConfigurationException(
                $"Device profile {path} is not valid JSON for a profile (line {ex.LineNumber + 1}, {ex.Path}): {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new MoeMeshConfigurationException($"Device profile {path} cannot be read: {ex.Message}", ex);
        }
    }

    private static string Locate(string profile, string? contentRoot)
    {
        if (string.IsNullOrWhiteSpace(profile))
        {
            throw new MoeMeshConfigurationException("MoeMesh:Device:Profile is empty; give a profile name such as 'rtx-4090-desktop' or a path to a profile JSON file.");
        }

        if (profile.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || profile.Contains(Path.DirectorySeparatorChar) || profile.Contains('/'))
        {
            var full = Path.GetFullPath(profile, contentRoot ?? Directory.GetCurrentDirectory());
            return File.Exists(full)
                ? full
                : throw new MoeMeshConfigurationException($"Device profile file '{full}' does not exist.");
        }

        foreach (var folder in SearchFolders(contentRoot))
        {
            var candidate = Path.Combine(folder, profile + ".json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        var known = AvailableProfiles(contentRoot);
        throw new MoeMeshConfigurationException(
            $"Unknown device profile '{profile}'. Ready-made profiles: {(known.Count == 0 ? "(none found)" : string.Join(", ", known))}; or give a path to a profile JSON file.");
    }
}
