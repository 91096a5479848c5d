using System.Text.Json;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Serialization;
using YamlDotNet.RepresentationModel;

namespace MoeMesh.Silo.Tests.Deployment;

/// <summary>deploy/kubernetes and deploy/compose parse, and carry what Orleans' Kubernetes hosting and MoeMesh need.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly string[] PodEnvironment = ["ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID", "POD_NAMESPACE", "POD_NAME", "POD_IP"];

    private readonly IReadOnlyList<YamlMappingNode> _documents = KubernetesManifests.Load("kubernetes");

    [Fact]
    public void Every_device_kind_has_a_silo_that_Orleans_Kubernetes_hosting_can_run()
    {
        var silos = _documents.OfKind("Deployment").Where(d => d.Text("metadata", "labels", "app") == "moemesh-silo").ToList();
        Assert.Equal(["cpu", "jetson", "rtx"], silos.Select(s => s.Text("spec", "template", "spec", "nodeSelector", "moemesh.io/device-kind")).Order(StringComparer.Ordinal));

        foreach (var silo in silos)
        {
            var pod = silo.At("spec", "template")!;
            var container = Assert.Single(pod.Items("spec", "containers"));
            var env = container.Items("env").ToDictionary(e => e.Text("name")!, e => e);
            foreach (var name in PodEnvironment)
            {
                Assert.True(env.ContainsKey(name), $"{silo.Text("metadata", "name")} lacks {name}");
                Assert.NotNull(env[name].Text("valueFrom", "fieldRef", "fieldPath"));
            }

            // The ids Orleans reads from the pod's labels are those MoeMesh's clustering uses.
            Assert.Equal("true", env["MoeMesh__Kubernetes__Enabled"].Text("value"));
            Assert.Equal(pod.Text("metadata", "labels", "orleans/serviceId"), env["MoeMesh__Clustering__ServiceId"].Text("value"));
            Assert.Equal(pod.Text("metadata", "labels", "orleans/clusterId"), env["MoeMesh__Clustering__ClusterId"].Text("value"));
            Assert.Equal("$(POD_IP)", env["MoeMesh__Endpoints__AdvertisedAddress"].Text("value"));
            Assert.Equal(["gateway", "silo"], container.Items("ports").Select(p => p.Text("name")!).Order(StringComparer.Ordinal));
            Assert.Contains(container.Items("ports"), p => p.Text("containerPort") == "11111");
            Assert.Contains(container.Items("ports"), p => p.Text("containerPort") == "30000");
            Assert.Equal(AllowedArchitecture(silo), pod.Text("spec", "nodeSelector", "kubernetes.io/arch"));

            // Certificates are required: a pod network is a LAN.
            Assert.NotNull(env["MoeMesh__Tls__CertificatePath"].Text("value"));
            Assert.NotNull(env["MoeMesh__Tls__CaPath"].Text("value"));
        }
    }

    [Fact]
    public void Silos_run_as_an_account_allowed_to_watch_and_delete_pods()
    {
        var account = _documents.OfKind("ServiceAccount").Single().Text("metadata", "name");
        var role = _documents.OfKind("Role").Single();
        var binding = _documents.OfKind("RoleBinding").Single();
        var rule = role.Items("rules").Single(r => (r.At("resources") as YamlSequenceNode)!.Children.Any(c => c.ToString() == "pods"));
        var verbs = ((YamlSequenceNode)rule.At("verbs")!).Children.Select(v => v.ToString()).ToList();

        Assert.Superset(new HashSet<string> { "get", "list", "watch", "delete" }, verbs.ToHashSet());
        Assert.Equal(role.Text("metadata", "name"), binding.Text("roleRef", "name"));
        Assert.Contains(binding.Items("subjects"), s => s.Text("name") == account);
        Assert.All(_documents.OfKind("Deployment").Where(d => d.Text("metadata", "labels", "app") == "moemesh-silo"),
            d => Assert.Equal(account, d.Text("spec", "template", "spec", "serviceAccountName")));
    }

    [Fact]
    public void Profiles_and_manifests_in_the_config_maps_are_valid_and_mounted()
    {
        var maps = _documents.OfKind("ConfigMap").ToDictionary(m => m.Text("metadata", "name")!, m => (YamlMappingNode)m.At("data")!);
        var folder = Directory.CreateTempSubdirectory("moemesh-k8s-").FullName;
        try
        {
            foreach (var (key, value) in maps["moemesh-profiles"].Children)
            {
                var path = Path.Combine(folder, key.ToString());
                File.WriteAllText(path, value.ToString());
                var device = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = path }, folder);
                Assert.True(device.MemoryBytes > 0);
            }

            foreach (var (key, value) in maps["moemesh-experts"].Children)
            {
                var manifest = JsonSerializer.Deserialize<ExpertManifest>(value.ToString(), MoeMeshJson.Options)!;
                Assert.Equal(Path.GetFileNameWithoutExtension(key.ToString()), manifest.Id);
                Assert.Equal(ExpertEngines.LlamaCpp, manifest.Engine);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var silo = _documents.OfKind("Deployment").First(d => d.Text("metadata", "labels", "app") == "moemesh-silo");
        var mounted = silo.Items("spec", "template", "spec", "volumes").Select(v => v.Text("configMap", "name")).OfType<string>();
        Assert.Equal(maps.Keys.Order(StringComparer.Ordinal), mounted.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_compose_lab_has_Redis_three_silos_of_different_profiles_and_the_dashboard()
    {
        var compose = Assert.Single(KubernetesManifests.Load("compose"));
        var services = (YamlMappingNode)compose.At("services")!;
        Assert.NotNull(services.At("redis"));
        var profiles = services.Children
            .Select(s => s.Value.Text("environment", "MoeMesh__Device__Profile"))
            .OfType<string>()
            .ToList();
        Assert.True(profiles.Distinct(StringComparer.Ordinal).Count() >= 3, string.Join(", ", profiles));
        Assert.Contains(services.Children.Values, s => s.Text("environment", "MoeMesh__Dashboard__Enabled") == "true");
    }

    private static string AllowedArchitecture(YamlNode silo)
        => silo.Text("spec", "template", "spec", "nodeSelector", "moemesh.io/device-kind") == "jetson" ? "arm64" : "amd64";
}
