using System.Text.Json;
using System.Text.Json.Serialization;
using MoeMesh.Devices;
using MoeMesh.Routing.Data;

namespace MoeMesh.Cli.Eval;

/// <summary>Finds and reads what <c>moemesh eval</c> needs from disk: the recorded outputs and the device profiles.</summary>
internal static class EvalInputs
{
    /// <summary>The data folder's place relative to a folder next to the repository.</summary>
    public static readonly string DataRelativePath = Path.Combine("shared", "data", "mmlu-pro-29");

    /// <summary>The recorded-outputs file name.</summary>
    public const string DataFileName = "mmlu_pro_29_models.jsonl.gz";

    private static readonly JsonSerializerOptions ProfileJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>
    /// The recorded-outputs file: <paramref name="data"/> itself when it is a file, the file inside
    /// it when it is a folder, or, without <paramref name="data"/>, <c>shared/data/mmlu-pro-29</c>
    /// found by walking up from the current folder and from the program's folder.
    /// </summary>
    public static string LocateDataFile(string? data)
    {
        if (!string.IsNullOrWhiteSpace(data))
        {
            if (File.Exists(data))
            {
                return Path.GetFullPath(data);
            }

            if (Directory.Exists(data))
            {
                return FileInFolder(data);
            }

            throw new FileNotFoundException($"--data '{data}' is neither a file nor a folder");
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DataRelativePath);
                if (Directory.Exists(candidate))
                {
                    return FileInFolder(candidate);
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"could not find the recorded outputs: no '{DataRelativePath}' folder above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}'; pass --data <folder or file>");
    }

    /// <summary>The device profiles folder: <paramref name="profiles"/>, or <c>deploy/profiles</c> found by walking up.</summary>
    public static string LocateProfiles(string? profiles)
    {
        if (!string.IsNullOrWhiteSpace(profiles))
        {
            return Directory.Exists(profiles)
                ? Path.GetFullPath(profiles)
                : throw new DirectoryNotFoundException($"--profiles '{profiles}' is not a folder");
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "deploy", "profiles");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException("could not find the device profiles (deploy/profiles); pass --profiles <folder>");
    }

    /// <summary>Every <c>*.json</c> profile in <paramref name="folder"/>, by file name without extension; invalid ones fail naming the file.</summary>
    public static IReadOnlyDictionary<string, DeviceProfile> ReadProfiles(string folder)
    {
        var profiles = new Dictionary<string, DeviceProfile>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            DeviceProfile? profile;
            try
            {
                profile = JsonSerializer.Deserialize<DeviceProfile>(File.ReadAllText(file), ProfileJson);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"device profile '{file}' is not valid: {e.Message}", e);
            }

            if (profile is null)
            {
                throw new InvalidDataException($"device profile '{file}' is empty");
            }

            var problems = profile.Validate();
            if (problems.Count > 0)
            {
                throw new InvalidDataException($"device profile '{file}' is not valid: {string.Join("; ", problems)}");
            }

            profiles[Path.GetFileNameWithoutExtension(file)] = profile;
        }

        return profiles.Count > 0 ? profiles : throw new InvalidDataException($"no device profiles (*.json) in '{folder}'");
    }

    /// <summary>Reads the recorded outputs, reporting model names the catalogue does not know.</summary>
    public static RecordedDataset ReadDataset(string file)
    {
        using var stream = File.OpenRead(file);
        return RecordedDatasetReader.Read(stream, new DatasetReadOptions { KnownModels = RecordedModelCatalog.KnownNames });
    }

    private static string FileInFolder(string folder)
    {
        var preferred = Path.Combine(folder, DataFileName);
        if (File.Exists(preferred))
        {
            return Path.GetFullPath(preferred);
        }

        var any = Directory.EnumerateFiles(folder, "*.jsonl.gz").Concat(Directory.EnumerateFiles(folder, "*.jsonl")).Order(StringComparer.Ordinal).FirstOrDefault();
        return any is not null
            ? Path.GetFullPath(any)
            : throw new FileNotFoundException($"the folder '{folder}' has no {DataFileName} (nor any *.jsonl.gz / *.jsonl file)");
    }
}
