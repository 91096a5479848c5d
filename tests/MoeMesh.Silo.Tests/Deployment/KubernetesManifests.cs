using YamlDotNet.RepresentationModel;

namespace MoeMesh.Silo.Tests.Deployment;

/// <summary>The YAML documents under <c>deploy/</c>, parsed, with helpers to walk them.</summary>
internal static class KubernetesManifests
{
    public static string DeployFolder { get; } = FindDeployFolder();

    /// <summary>Every document of every YAML file in <paramref name="folder"/> (relative to deploy/).</summary>
    public static IReadOnlyList<YamlMappingNode> Load(string folder)
    {
        var documents = new List<YamlMappingNode>();
        foreach (var file in Directory.GetFiles(Path.Combine(DeployFolder, folder), "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            documents.AddRange(stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>());
        }

        return documents;
    }

    public static YamlNode? At(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    public static string? Text(this YamlNode node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Items(this YamlNode node, params string[] path)
        => (node.At(path) as YamlSequenceNode)?.Children.OfType<YamlMappingNode>() ?? [];

    public static IEnumerable<YamlMappingNode> OfKind(this IEnumerable<YamlMappingNode> documents, string kind)
        => documents.Where(d => d.Text("kind") == kind);

    private static string FindDeployFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "kubernetes");
            if (Directory.Exists(candidate))
            {
                return Path.Combine(dir.FullName, "deploy");
            }
        }

        throw new DirectoryNotFoundException("deploy/kubernetes was not found above the test's folder.");
    }
}
