using System.Text.Json;
using MoeMesh.Cli.Tests.Models.Hub;

namespace MoeMesh.Cli.Tests.Mesh;

/// <summary>The README's main job: two silo processes, llama.cpp experts, one query answered end to end.</summary>
[Collection(MoeMeshHomeCollection.Name)]
public sealed class DemoCommandTests(MoeMeshHomeFixture home)
{
    [Fact]
    public async Task Demo_answers_a_query_with_llama_cpp_on_two_silos_and_reports_plan_and_accounting()
    {
        // No hub in reach (a closed local port, whatever the network of the machine running this):
        // the README's first command says so in one line and runs on the synthesized experts.
        using var environment = new EnvironmentScope()
            .Set("HF_ENDPOINT", "http://127.0.0.1:1")
            .Set("MOEMESH_MODELS_DIR", Path.Combine(home.Home, "empty-model-cache"))
            .Set("HF_HUB_OFFLINE", null);

        var (code, output, error) = await CliRunner.RunAsync(
            "demo", "--json", "--silo-port", "21111", "--gateway-port", "31000", "--max-tokens", "16");

        Assert.True(code == 0, $"exit {code}: {error}");
        using var json = JsonDocument.Parse(output);
        var result = json.RootElement;
        Assert.False(string.IsNullOrEmpty(result.GetProperty("answer").GetString()));
        var plan = result.GetProperty("plan");
        Assert.Equal("demo-math", plan.GetProperty("steps")[0].GetProperty("expertId").GetString());
        var run = result.GetProperty("runs")[0];
        Assert.Equal("completed", run.GetProperty("outcome").GetString());
        Assert.Equal(16, run.GetProperty("metrics").GetProperty("generatedTokens").GetInt32());
        Assert.True(run.GetProperty("metrics").GetProperty("promptTokens").GetInt32() > 5);
        Assert.True(run.GetProperty("energyJoules").GetDouble() > 0);
        Assert.Equal("model", run.GetProperty("energyMeter").GetString());
        Assert.False(string.IsNullOrEmpty(run.GetProperty("deviceName").GetString()));
        Assert.Contains("2 silos joined", error);
        Assert.Single(error.Split('\n'), line => line.Contains("is unreachable, so the demo runs on synthesized experts", StringComparison.Ordinal));
        Assert.Contains("moemesh models pull Qwen/Qwen2.5-0.5B-Instruct-GGUF", error);
        Assert.Contains("demo-science/0 ready on Jetson AGX Orin 64GB", error);
        Assert.True(File.Exists(Path.Combine(home.Home, "demo-experts", "v1", "demo-math.gguf")));
    }
}
