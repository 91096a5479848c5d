using MoeMesh.Cli.Common;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Inference.Experts;
using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Cli.Mesh;

/// <summary>
/// The local demo's experts: four tiny llama-architecture GGUF models written by the synthesizer
/// (random weights, so their text is not meaningful, but every token is computed by llama.cpp).
/// Real deployments point manifests at real GGUF files.
/// </summary>
public static class DemoExperts
{
    /// <summary>Bumped when the demo models change, so stale ones are rebuilt.</summary>
    private const string Version = "v1";

    /// <summary>The demo experts: id, skills, seed, and device kinds allowed (empty: any).</summary>
    public static IReadOnlyList<(string Id, string Title, string[] Skills, int Seed, DeviceKind[] Kinds)> Specs { get; } =
    [
        ("demo-general", "Demo general assistant", ["general", "writing", "history", "facts"], 11, []),
        ("demo-math", "Demo math expert", ["math", "arithmetic", "algebra", "numbers", "times"], 23, []),
        ("demo-code", "Demo code expert", ["code", "programming", "software", "bug"], 37, [DeviceKind.DesktopGpu]),
        ("demo-science", "Demo science expert", ["science", "physics", "chemistry", "biology"], 53, [DeviceKind.Jetson]),
    ];

    /// <summary>Where the demo experts live.</summary>
    public static string Folder => Path.Combine(LocalMeshState.Home, "demo-experts", Version);

    /// <summary>Writes the demo experts if they are missing and returns their folder.</summary>
    public static async Task<string> EnsureAsync(TextWriter progress, CancellationToken cancellationToken)
    {
        var folder = Folder;
        if (Specs.All(s => File.Exists(Path.Combine(folder, s.Id + ".json")) && File.Exists(Path.Combine(folder, s.Id + ".gguf"))))
        {
            return folder;
        }

        Directory.CreateDirectory(folder);
        foreach (var spec in Specs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await progress.WriteLineAsync($"writing demo expert {spec.Id} to {folder}…");
            var written = SynthesizedExpert.Write(
                folder,
                new TinyLlamaOptions { Name = spec.Id, Layers = 4, EmbeddingLength = 256, HeadCount = 4, ContextLength = 1024, Seed = (ulong)spec.Seed },
                contextSize: 1024,
                skills: spec.Skills);
            ExpertManifestFile.Write(written.ManifestPath, written.Manifest with
            {
                DisplayName = spec.Title,
                Placement = new PlacementConstraints { DeviceKinds = spec.Kinds },
            });
        }

        return folder;
    }
}
