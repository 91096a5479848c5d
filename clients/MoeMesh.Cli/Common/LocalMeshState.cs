using System.Text.Json;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Common;

/// <summary>What <c>moemesh up</c> records about the mesh it runs, so other verbs find it.</summary>
public sealed record LocalMeshState
{
    public required IReadOnlyList<string> Gateways { get; init; }

    public required IReadOnlyList<int> SiloProcessIds { get; init; }

    public string? DashboardUrl { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>MoeMesh's working folder: <c>$MOEMESH_HOME</c>, or <c>~/.moemesh</c>.</summary>
    public static string Home
        => Environment.GetEnvironmentVariable("MOEMESH_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".moemesh");

    private static string FilePath => Path.Combine(Home, "mesh.json");

    public static LocalMeshState? Read()
    {
        try
        {
            return File.Exists(FilePath) ? JsonSerializer.Deserialize<LocalMeshState>(File.ReadAllText(FilePath), MoeMeshJson.Options) : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return null;
        }
    }

    public void Write()
    {
        Directory.CreateDirectory(Home);
        File.WriteAllText(FilePath, JsonSerializer.Serialize(this, MoeMeshJson.Options));
    }

    public static void Delete()
    {
        try
        {
            File.Delete(FilePath);
        }
        catch (IOException)
        {
        }
    }
}
