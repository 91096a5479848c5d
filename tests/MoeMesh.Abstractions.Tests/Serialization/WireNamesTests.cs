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
        var (wire, parsed) = value switch
        {
            BindingBudget b => (b.ToWireName(), (object)WireNames<BindingBudget>.Parse(name)),
            AnswerCombination c => (c.ToWireName(), WireNames<AnswerCombination>.Parse(name)),
            MeterKind m => (m.ToWireName(), WireNames<MeterKind>.Parse(name)),
            _ => throw new ArgumentException("not a wire enum", nameof(value)),
        };

        Assert.Equal(name, wire);
        Assert.Equal(value, parsed);
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

    [Fact]
    public void The_table_lists_every_name_in_value_order_and_reads_them_in_any_case()
    {
        Assert.Equal(new[] { "none", "latency", "energy", "latency and energy" }, WireNames<BindingBudget>.Names);
        Assert.Equal(new[] { "single", "agreement", "vote", "best-weighted", "aggregator" }, WireNames<AnswerCombination>.Names);
        Assert.Equal(new[] { "none", "model", "nvml", "ina3221", "rapl", "engine", "replay" }, WireNames<MeterKind>.Names);
        Assert.Equal(AnswerCombination.BestWeighted, WireNames<AnswerCombination>.Parse("Best-Weighted"));
        Assert.Equal(BindingBudget.LatencyAndEnergy, WireNames<BindingBudget>.Parse("LATENCY AND ENERGY"));
    }

    [Theory]
    [InlineData("wattmeter")]
    [InlineData("")]
    [InlineData("Ina3221 ")]
    [InlineData(null)]
    public void An_unknown_name_is_refused_with_the_names_that_exist(string? name)
    {
        var error = Assert.Throws<FormatException>(() => WireNames<MeterKind>.Parse(name));

        Assert.Equal($"'{name}' is not a MeterKind; expected one of: 'none', 'model', 'nvml', 'ina3221', 'rapl', 'engine', 'replay'.", error.Message);
    }

    [Fact]
    public void A_value_outside_the_enum_is_written_as_its_number_and_a_member_without_a_wire_name_in_camel_case()
    {
        Assert.Equal("42", ((MeterKind)42).ToWireName());
        Assert.Equal("desktopGpu", MoeMesh.Devices.DeviceKind.DesktopGpu.ToWireName());
        Assert.Equal("\"desktopGpu\"", JsonSerializer.Serialize(MoeMesh.Devices.DeviceKind.DesktopGpu, MoeMeshJson.Compact));
    }
}
