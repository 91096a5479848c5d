using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing.Execution;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Tests.Routing.Execution;

public sealed class ReplacementFinderTests
{
    private static readonly DeviceProfile Jetson = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "jetson-agx-orin-64gb" });
    private static readonly DeviceProfile Rtx = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "rtx-4090-desktop" });

    private static readonly ExpertManifest[] Experts = [Expert("math"), Expert("code"), Expert("general")];

    private static readonly QueryPlan Plan = new()
    {
        QueryId = "q",
        Steps = [new PlannedStep { ExpertId = "math", Replica = 0, Silo = "rtx", Resident = true }],
        Candidates =
        [
            new CandidateScore { ExpertId = "math", Score = 0.9 },
            new CandidateScore { ExpertId = "code", Score = 0.3, PredictedLatencyMs = 40 },
            new CandidateScore { ExpertId = "general", Score = 0.6, PredictedLatencyMs = 50 },
        ],
    };

    private static readonly Dictionary<string, ExpertManifest> Manifests = Experts.ToDictionary(e => e.Id);

    [Fact]
    public void A_loaded_replica_of_the_same_expert_on_a_live_silo_comes_first()
    {
        var catalog = Catalog(Replica("math", 0, "rtx"), Replica("math", 1, "jetson"));

        var found = new ReplacementFinder(Plan, Manifests).Find(Plan.Steps[0], FailedRun(0, "rtx"), catalog, Suspects("rtx"));

        Assert.NotNull(found);
        Assert.Null(found.HintSilo);
        Assert.Equal(("math", 1, "jetson", true), (found.Step.ExpertId, found.Step.Replica, found.Step.Silo, found.Step.Resident));
        Assert.Equal(Jetson.Name, found.Step.DeviceName);
    }

    [Fact]
    public void Without_a_loaded_replica_a_fresh_one_is_placed_on_a_live_silo()
    {
        var catalog = Catalog(Replica("math", 0, "rtx"));

        var found = new ReplacementFinder(Plan, Manifests).Find(Plan.Steps[0], FailedRun(0, "rtx"), catalog, Suspects("rtx"));

        Assert.NotNull(found);
        Assert.Equal("jetson", found.HintSilo);
        Assert.Equal(("math", 1, "jetson", false), (found.Step.ExpertId, found.Step.Replica, found.Step.Silo, found.Step.Resident));
    }

    [Fact]
    public void An_expert_no_live_silo_can_host_gives_way_to_the_best_scored_other_expert_once()
    {
        var manifests = new Dictionary<string, ExpertManifest>(Manifests) { ["math"] = Expert("math", DeviceKind.Cloud) };
        var catalog = Catalog(Replica("general", 0, "jetson"));
        var finder = new ReplacementFinder(Plan, manifests);

        var first = finder.Find(Plan.Steps[0], FailedRun(0, "rtx"), catalog, Suspects("rtx"));
        var second = finder.Find(Plan.Steps[0], FailedRun(0, "rtx"), catalog, Suspects("rtx"));
        var third = finder.Find(Plan.Steps[0], FailedRun(0, "rtx"), catalog, Suspects("rtx"));

        Assert.NotNull(first);
        Assert.Equal(("general", 0, "jetson", true, 0.6, 50.0), (first.Step.ExpertId, first.Step.Replica, first.Step.Silo, first.Step.Resident, first.Step.Weight, first.Step.PredictedLatencyMs));
        Assert.Null(first.HintSilo);
        Assert.NotNull(second);
        Assert.Equal(("code", "jetson", false), (second.Step.ExpertId, second.Step.Silo, second.Step.Resident));
        Assert.Equal("jetson", second.HintSilo);
        Assert.Null(third);
    }

    [Fact]
    public void With_every_silo_suspect_there_is_no_replacement()
    {
        var catalog = Catalog(Replica("math", 1, "jetson"));

        Assert.Null(new ReplacementFinder(Plan, Manifests).Find(Plan.Steps[0], FailedRun(0, "rtx"), catalog, Suspects("rtx", "jetson")));
    }

    private static ExpertManifest Expert(string id, params DeviceKind[] kinds) => new()
    {
        Id = id,
        Engine = ExpertEngines.Replay,
        ParameterCount = 1_000_000_000,
        Quantization = "Q4_K_M",
        Placement = new PlacementConstraints { DeviceKinds = kinds },
    };

    private static ReplicaStatus Replica(string expert, int replica, string silo)
        => new() { Replica = new ExpertReplica(expert, replica), Silo = silo, State = ReplicaState.Ready };

    private static ExpertRun FailedRun(int replica, string silo)
        => new() { ExpertId = "math", Replica = replica, Silo = silo, Outcome = RunOutcome.Failed, Error = "silo lost" };

    private static HashSet<string> Suspects(params string[] silos) => [.. silos];

    private static CatalogSnapshot Catalog(params ReplicaStatus[] replicas)
    {
        SiloInfo Silo(string name, DeviceProfile device) => new()
        {
            Silo = name,
            Device = device,
            State = SiloState.Active,
            HostableExperts = Experts.Select(e => e.Id).ToList(),
            ModelMemoryBudgetBytes = device.MemoryBytes,
        };

        return new CatalogSnapshot { Silos = [Silo("rtx", Rtx), Silo("jetson", Jetson)], Experts = Experts, Replicas = replicas };
    }
}
