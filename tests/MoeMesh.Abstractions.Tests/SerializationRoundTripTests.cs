using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Queries;
using Orleans.Serialization;
using MoeMesh.Serialization;

namespace MoeMesh.Abstractions.Tests;

/// <summary>Every contract that crosses silos survives the Orleans serializer with all its fields.</summary>
public sealed class SerializationRoundTripTests
{
    private readonly Serializer _serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void Query_round_trips()
    {
        // Every serialized field differs from its default, so a field the serializer dropped shows up.
        var query = new Query
        {
            Id = "query-7",
            Messages = [ChatTurn.System("s"), ChatTurn.User("u"), ChatTurn.Assistant("a")],
            Choices = ["x", "y"],
            Options = new QueryOptions
            {
                Strategy = RoutingStrategy.Moe2,
                K = 3,
                LatencyBudgetMs = 1500,
                EnergyBudgetJoules = 40,
                MaxTokens = 99,
                Experts = ["a", "b"],
                Stop = ["\n\n", "END"],
                Sampling = new SamplingOptions
                {
                    Temperature = 0.5f,
                    TopK = 5,
                    TopP = 0.7f,
                    MinP = 0.2f,
                    RepetitionPenalty = 1.3f,
                    RepetitionLastN = 12,
                    Seed = 7,
                },
            },
        };

        var copy = RoundTrip(query);

        AssertEverySerializedField(query, copy, new Query { Messages = [] }, nameof(Query.Options));
        AssertEverySerializedField(query.Options, copy.Options, new QueryOptions(), nameof(QueryOptions.Sampling));
        AssertEverySerializedField(query.Options.Sampling, copy.Options.Sampling, new SamplingOptions());
        Assert.Equal(query.Question, copy.Question);
    }

    [Fact]
    public void Query_events_round_trip_polymorphically()
    {
        var plan = new QueryPlan
        {
            QueryId = "q",
            Strategy = RoutingStrategy.Symbolic,
            Skills = ["algebra"],
            Candidates = [new CandidateScore { ExpertId = "a", Score = 0.7, Chosen = true }],
            Steps = [new PlannedStep { ExpertId = "a", Replica = 1, Role = ExpertRole.Aggregator, Weight = 0.4 }],
            Feasible = false,
            BindingBudget = BindingBudget.Energy,
        };
        QueryEvent[] events =
        [
            new PlanChosen(plan),
            new TokenProduced("hi", "a", true),
            new RunFinished(new ExpertRun { ExpertId = "a", Outcome = RunOutcome.Failed, Error = "boom", Metrics = new GenerationMetrics { GeneratedTokens = 3 } }),
            new QueryNotice("n"),
            new QueryCompleted(new QueryResult { QueryId = "q", Plan = plan, Answer = "x", Choice = "B", Notes = ["n"] }),
        ];

        var copies = events.Select(RoundTrip).ToList();

        var copiedPlan = Assert.IsType<PlanChosen>(copies[0]).Plan;
        Assert.Equal("energy", copiedPlan.BindingBudget?.ToWireName());
        Assert.Equal(ExpertRole.Aggregator, copiedPlan.Steps[0].Role);
        Assert.Equal(events[1], copies[1]);
        Assert.Equal("boom", Assert.IsType<RunFinished>(copies[2]).Run.Error);
        Assert.Equal(3, Assert.IsType<RunFinished>(copies[2]).Run.Metrics!.GeneratedTokens);
        Assert.Equal(events[3], copies[3]);
        Assert.Equal("B", Assert.IsType<QueryCompleted>(copies[4]).Result.Choice);
    }

    [Fact]
    public void Catalog_snapshot_round_trips()
    {
        var manifest = new ExpertManifest
        {
            Id = "m",
            Engine = ExpertEngines.LlamaCpp,
            ModelPath = "/m.gguf",
            Skills = ["s"],
            Placement = new PlacementConstraints { DeviceKinds = [DeviceKind.Jetson], MinFreeMemoryBytes = 5 },
            EngineOptions = new Dictionary<string, string> { ["threads"] = "4" },
        };
        var device = new DeviceProfile { Name = "d", Kind = DeviceKind.Jetson, MemoryBytes = 1, MemoryBandwidthGBps = 2, Fp16Tflops = 3, IdlePowerWatts = 4, MaxPowerWatts = 5 };
        var snapshot = new CatalogSnapshot
        {
            Silos = [new SiloInfo { Silo = "s1", Device = device, State = SiloState.Dead, HostableExperts = ["m"] }],
            Experts = [manifest],
            Replicas = [new ReplicaStatus { Replica = new ExpertReplica("m", 1), Silo = "s1", State = ReplicaState.Failed, Error = "e" }],
        };

        var copy = RoundTrip(snapshot);

        Assert.Equal(device, copy.Silos[0].Device);
        Assert.Equal(SiloState.Dead, copy.Silos[0].State);
        Assert.Equal("4", copy.Experts[0].EngineOptions["threads"]);
        Assert.Equal([DeviceKind.Jetson], copy.Experts[0].Placement.DeviceKinds);
        Assert.Equal(new ExpertReplica("m", 1), copy.Replicas[0].Replica);
        Assert.Equal("e", copy.Replicas[0].Error);
    }

    [Fact]
    public void Errors_keep_their_type_and_message()
    {
        var copy = RoundTrip<Exception>(new Errors.InvalidRequestException("bad k"));

        Assert.IsType<Errors.InvalidRequestException>(copy);
        Assert.Equal("bad k", copy.Message);
    }

    private T RoundTrip<T>(T value) => _serializer.Deserialize<T>(_serializer.SerializeToArray(value))!;

    /// <summary>
    /// Checks each property that carries an Orleans <see cref="IdAttribute"/>: the original sets it
    /// away from its default (so the check can fail) and the copy holds the same value. Nested
    /// contracts named in <paramref name="checkedSeparately"/> get their own call.
    /// </summary>
    private static void AssertEverySerializedField<T>(T original, T copy, T defaults, params string[] checkedSeparately)
    {
        var fields = typeof(T).GetProperties()
            .Where(p => p.GetCustomAttributes(typeof(IdAttribute), inherit: false).Length > 0)
            .Where(p => !checkedSeparately.Contains(p.Name))
            .ToList();
        Assert.NotEmpty(fields);
        foreach (var field in fields)
        {
            var expected = Normalize(field.GetValue(original));
            Assert.False(Same(expected, Normalize(field.GetValue(defaults))), $"{typeof(T).Name}.{field.Name} is left at its default, so this test cannot see it dropped");
            Assert.True(Same(expected, Normalize(field.GetValue(copy))), $"{typeof(T).Name}.{field.Name} did not survive the round trip");
        }
    }

    private static object? Normalize(object? value)
        => value is System.Collections.IEnumerable items and not string ? items.Cast<object>().ToArray() : value;

    private static bool Same(object? a, object? b)
        => a is object[] x && b is object[] y ? x.SequenceEqual(y) : Equals(a, b);
}
