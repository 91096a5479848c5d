using System.Text.Json;

namespace MoeMesh.Cli.Tests.Bench;

/// <summary>
/// <c>moemesh bench replay</c> end to end: two silo processes of replay experts on the recorded
/// MMLU-Pro answers, one of them killed while queries are in flight.
/// </summary>
[Collection(MoeMeshHomeCollection.Name)]
public sealed class BenchReplayCommandTests
{
    [Fact]
    public async Task Every_query_is_answered_when_a_silo_dies_mid_run_and_the_report_compares_with_eval()
    {
        var (code, output, error) = await CliRunner.RunAsync(
            "bench", "replay", "--json", "--queries", "30", "--warmup", "5", "--rate", "20", "--kill-silo-after", "0.5",
            "--silo-port", "23311", "--gateway-port", "33311");

        Assert.True(code == 0, $"exit {code}: {output}\n{error}");
        using var json = JsonDocument.Parse(output);
        var report = json.RootElement;
        Assert.Equal(30, report.GetProperty("sent").GetInt32());
        Assert.Equal(30, report.GetProperty("answered").GetInt32());
        var kill = report.GetProperty("kill");
        Assert.Equal("rtx-4090-desktop", kill.GetProperty("silo").GetString());
        Assert.Equal(kill.GetProperty("sentAfter").GetInt32(), kill.GetProperty("answeredAfter").GetInt32());
        Assert.Equal(1.0, report.GetProperty("budgets").GetProperty("withinBoth").GetDouble());
        var accuracy = report.GetProperty("accuracy").GetDouble();
        Assert.InRange(accuracy, 0.05, 0.95);
        var eval = report.GetProperty("eval");
        Assert.Equal("moe2", eval.GetProperty("router").GetString());
        Assert.Equal(1, eval.GetProperty("k").GetInt32());
        Assert.Equal((accuracy - eval.GetProperty("accuracyOnSent").GetDouble()) * 100, eval.GetProperty("gapPoints").GetDouble(), 6);
    }

    [Fact]
    public async Task A_device_missing_from_the_silos_is_a_usage_error()
    {
        var (code, _, error) = await CliRunner.RunAsync("bench", "replay", "--silos", "cpu-box");

        Assert.Equal(2, code);
        Assert.Contains("--silos must include", error);
    }
}
