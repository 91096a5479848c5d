using System.Text.Json;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Serialization;

namespace MoeMesh.Abstractions.Tests.Serialization;

public sealed class WireNamesTests
{
    public static TheoryData<object, string> Names => new()
    {
        { BindingBudget.Latency, "latency" },
        { BindingBudget.Energy, "energy" },
        { BindingBudget.LatencyAndEnergy, "latency and energy" },
        { AnswerCombination.Single, "single" },
        { AnswerCombination.Agreement, "agreement" },
        { AnswerCombination.Vote, "vote" },
        { AnswerCombination.BestWeighted, "best-weighted" },
        { AnswerCombination.Aggregator, "aggregator" },
        { MeterKind.None, "none" },
        { MeterKind.Model, "model" },
        { MeterKind.Nvml, "nvml" },
        { MeterKind.Ina3221, "ina3221" },
        { MeterKind.Rapl, "rapl" },
        { MeterKind.Engine, "engine" },
        { MeterKind.Replay, "replay" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Enums_are_written_with_the_strings_the_mesh_always_wrote(object value, string name)
    {
        var wire = value switch
        {
            BindingBudget b => b.ToWireName(),
            AnswerCombination c => c.ToWireName(),
            MeterKind m => m.ToWireName(),
            _ => throw new ArgumentException("not a wire enum", nameof(value)),
        };

        Assert.Equal(name, wire);
        Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(value, value.GetType(), MoeMeshJson.Compact));
        Assert.Equal(value, JsonSerializer.Deserialize($"\"{name}\"", value.GetType(), MoeMeshJson.Compact));

        // Without the MoeMesh options too: the enum carries its converter.
        Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(value, value.GetType()));
    }

    [Fact]
    public void A_result_reads_the_same_in_json_as_before_the_enums()
    {
        var result = new QueryResult
        {
            QueryId = "q",
            Plan = new QueryPlan { QueryId = "q", Feasible = false, BindingBudget = BindingBudget.LatencyAndEnergy },
            Combination = AnswerCombination.BestWeighted,
            Runs = [new ExpertRun { ExpertId = "a", EnergyMeter = MeterKind.Ina3221 }],
        };

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result, MoeMeshJson.Compact));

        Assert.Equal("best-weighted", json.RootElement.GetProperty("combination").GetString());
        Assert.Equal("latency and energy", json.RootElement.GetProperty("plan").GetProperty("bindingBudget").GetString());
        Assert.Equal("ina3221", json.RootElement.GetProperty("runs")[0].GetProperty("energyMeter").GetString());
        Assert.False(JsonSerializer.Serialize(result with { Plan = result.Plan with { BindingBudget = null } }, MoeMeshJson.Compact).Contains("bindingBudget", StringComparison.Ordinal));
    }

    [Fact]
    public void Engine_energy_sources_parse_to_meter_kinds_and_unknown_ones_do_not()
    {
        Assert.True(WireNames.TryParse<MeterKind>("replay", out var replay));
        Assert.Equal(MeterKind.Replay, replay);
        Assert.False(WireNames.TryParse<MeterKind>("wattmeter", out _));
        Assert.False(WireNames.TryParse<MeterKind>(null, out _));
    }
}
